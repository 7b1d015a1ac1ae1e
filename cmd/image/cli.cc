#include "cmd/image/cli.h"

#include <cstdio>
#include <functional>
#include <map>

namespace berth::cli::image {
namespace {

using Verb = std::function<int(Context&, const Args&)>;

const std::map<std::string, Verb>& Verbs() {
  static const std::map<std::string, Verb> verbs = {
      {"pull", Pull},       {"ls", List},       {"list", List},
      {"inspect", Inspect}, {"rm", Remove},     {"remove", Remove},
      {"prune", Prune},     {"import", Import}, {"export", Export},
  };
  return verbs;
}

int Usage(FILE* out, const FlagSet& flags) {
  std::fprintf(out,
               "usage: berth image [global options] <command> [arguments]\n\n"
               "commands:\n"
               "  pull REF          download an image from its registry and unpack it\n"
               "  ls                list images\n"
               "  inspect REF       show an image's record, manifest and config\n"
               "  rm REF...         remove images (their content stays until prune)\n"
               "  prune             remove blobs and snapshots no image references\n"
               "  import FILE       load a docker save or OCI layout archive\n"
               "  export -o FILE REF...  write images as an OCI layout archive\n\n"
               "global options:\n%s",
               flags.Usage().c_str());
  return out == stderr ? 2 : 0;
}

}  // namespace

int Fail(const std::string& verb, const Error& error) {
  std::fprintf(stderr, "berth image %s: %s\n", verb.c_str(), error.str().c_str());
  return 1;
}

Result<img::ImageRoot> OpenRoot(const Context& ctx) {
  return img::ImageRoot::Open(ctx.root);
}

std::string HumanSize(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

int ImageMain(const Args& args) {
  Context ctx;
  bool help = false;
  FlagSet flags("image");
  flags.String("root", &ctx.root, "where images are kept (default " + ctx.root + ")");
  flags.String("registry-config-dir", &ctx.registry_config_dir,
               "registry hosts configuration, containerd's hosts.toml layout (default " +
                   ctx.registry_config_dir + ")");
  flags.Bool("help,h", &help, "show this help");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) {
    std::fprintf(stderr, "berth image: %s\n", pos.error().str().c_str());
    return 2;
  }
  if (help) return Usage(stdout, flags);
  if (pos->empty()) return Usage(stderr, flags);
  auto verb = Verbs().find(pos->front());
  if (verb == Verbs().end()) {
    std::fprintf(stderr, "berth image: unknown command \"%s\"\n", pos->front().c_str());
    return Usage(stderr, flags);
  }
  return verb->second(ctx, Args(pos->begin() + 1, pos->end()));
}

}  // namespace berth::cli::image
