// `berth image pull [--platform P] [--user U[:P]] [--plain-http] REF`

#include "runtime/image/pull.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

#include "cmd/image/cli.h"
#include "runtime/image/registry/credentials.h"

namespace berth::cli::image {
namespace {

namespace registry = ::berth::image::registry;

// Per-layer bars on a terminal, redrawn in place; nothing otherwise.
class TerminalProgress : public img::PullProgress {
 public:
  void Resolved(const img::Reference& ref, const img::Descriptor& manifest) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::fprintf(stderr, "%s: resolved %s\n", ref.String().c_str(), manifest.digest.str().c_str());
  }
  void Layer(const img::Descriptor& layer, uint64_t done, bool finished) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, added] = rows_.try_emplace(layer.digest.str(), Row{order_.size(), 0, false});
    if (added) order_.push_back(layer);
    it->second.done = done;
    it->second.finished = finished;
    Draw();
  }

 private:
  struct Row {
    size_t index;
    uint64_t done;
    bool finished;
  };
  void Draw() {
    if (drawn_ > 0) std::fprintf(stderr, "\x1b[%zuA", drawn_);
    for (const img::Descriptor& d : order_) {
      const Row& r = rows_.at(d.digest.str());
      double total = static_cast<double>(std::max<int64_t>(d.size, 1));
      int filled = static_cast<int>(30.0 * static_cast<double>(r.done) / total);
      filled = std::min(filled, 30);
      std::string bar(static_cast<size_t>(filled), '=');
      bar.resize(30, ' ');
      std::fprintf(stderr, "\x1b[2K%.19s [%s] %10s / %-10s %s\n", d.digest.str().c_str() + 7,
                   bar.c_str(), HumanSize(r.done).c_str(),
                   HumanSize(static_cast<uint64_t>(d.size)).c_str(), r.finished ? "done" : "");
    }
    drawn_ = order_.size();
  }
  std::mutex mu_;
  std::map<std::string, Row> rows_;
  std::vector<img::Descriptor> order_;
  size_t drawn_ = 0;
};

std::string DefaultDockerConfig() {
  if (const char* dir = std::getenv("DOCKER_CONFIG")) return std::string(dir) + "/config.json";
  if (const char* home = std::getenv("HOME")) return std::string(home) + "/.docker/config.json";
  return "";
}

}  // namespace

int Pull(Context& ctx, const Args& args) {
  std::string platform, user, docker_config = DefaultDockerConfig();
  bool plain_http = false, quiet = false;
  int parallel = 3;
  FlagSet flags("pull");
  flags.String("platform", &platform, "os/arch[/variant] to pull (default: this host's)");
  flags.String("user,u", &user, "registry credentials, user[:password]");
  flags.String("docker-config", &docker_config, "docker config.json with registry credentials");
  flags.Bool("plain-http", &plain_http, "talk HTTP to the registry (hosts.toml can say so too)");
  flags.Int("max-concurrent-downloads", &parallel, "layers downloaded at once (default 3)");
  flags.Bool("quiet,q", &quiet, "no progress display");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) return Fail("pull", pos.error());
  if (pos->size() != 1)
    return Fail("pull", Error(Errc::kInvalidArgument, "usage: berth image pull [options] REF"));
  Result<img::Reference> ref = img::Reference::Parse(pos->front());
  if (!ref.ok()) return Fail("pull", ref.error());

  img::PullOptions options;
  if (!platform.empty()) {
    Result<img::Platform> p = img::ParsePlatform(platform, "--platform");
    if (!p.ok()) return Fail("pull", p.error());
    options.platform = *p;
  }
  options.parallel = parallel;
  options.client.hosts.hosts_dir = ctx.registry_config_dir;
  options.client.hosts.plain_http = plain_http;
  std::optional<registry::AuthConfig> given;
  if (!user.empty()) {
    registry::AuthConfig a;
    size_t colon = user.find(':');
    a.username = user.substr(0, colon);
    if (colon != std::string::npos) a.password = user.substr(colon + 1);
    given = a;
  }
  std::shared_ptr<const registry::DockerConfig> config;
  if (!docker_config.empty()) {
    Result<registry::DockerConfig> loaded = registry::DockerConfig::Load(docker_config);
    if (!loaded.ok()) return Fail("pull", loaded.error());
    config = std::make_shared<registry::DockerConfig>(std::move(loaded).value());
  }
  options.client.credentials = registry::MakeCredentials(ref->domain, given, config);
  TerminalProgress progress;
  if (!quiet && ::isatty(2)) options.progress = &progress;

  Result<img::ImageRoot> root = OpenRoot(ctx);
  if (!root.ok()) return Fail("pull", root.error());
  Result<img::ImageRecord> record = img::Pull(*root, *ref, options);
  if (!record.ok()) return Fail("pull", record.error());
  std::printf("%s %s\n", record->name.c_str(), record->target.digest.str().c_str());
  return 0;
}

}  // namespace berth::cli::image
