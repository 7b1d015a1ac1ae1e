#include "integration/priv/harness/suite.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "common/file.h"
#include "common/strings.h"

namespace berth::priv {

namespace bj = boost::json;

NamedNetns& CaseContext::MakeNetns() {
  static std::atomic<int> counter{0};
  std::string name = "berth-conf-" + std::to_string(::getpid()) + "-ns" + std::to_string(counter++);
  netns.push_back(std::make_unique<NamedNetns>(name));
  return *netns.back();
}

std::string Outcome(const RunResult& r) {
  if (r.exit_code() == 0) return "ok";
  std::string message = ErrorMessage(r.err);
  return "exit " + std::to_string(r.exit_code()) + (message.empty() ? "" : ": " + message);
}

Flow RunToExit() {
  return [](Container& c, CaseContext&, Observation& obs) {
    RunResult created = c.Create();
    obs["create"] = Outcome(created);
    if (created.exit_code() != 0) return;
    obs["start"] = Outcome(c.Start());
    obs["exit"] = DescribeStatus(c.WaitExit());
    obs["stdout"] = c.Stdout();
    obs["stderr"] = c.Stderr().substr(c.create_messages().size());
    obs["state"] = c.Status();
    obs["delete"] = Outcome(c.Delete());
  };
}

Flow WhileRunning(Flow inspect) {
  return [inspect = std::move(inspect)](Container& c, CaseContext& ctx, Observation& obs) {
    RunResult created = c.Create();
    obs["create"] = Outcome(created);
    if (created.exit_code() != 0) return;
    obs["start"] = Outcome(c.Start());
    inspect(c, ctx, obs);
    (void)c.Kill("KILL");
    obs["exit"] = DescribeStatus(c.WaitExit());
    obs["delete"] = Outcome(c.Delete());
  };
}

namespace {

std::string Normalize(std::string text, const CaseContext& ctx) {
  text = ReplaceAll(std::move(text), ctx.bundle, "<bundle>");
  text = ReplaceAll(std::move(text), ctx.scratch, "<scratch>");
  text = ReplaceAll(std::move(text), ctx.cgroups.name(), "<cgroups>");
  for (const auto& n : ctx.netns)
    text = ReplaceAll(std::move(text), Basename(n->path()), "<netns>");
  return text;
}

std::map<std::string, Observation>& ReferenceCache() {
  static std::map<std::string, Observation> cache;
  return cache;
}

}  // namespace

Observation RunCase(const Runtime& runtime, const Case& c) {
  InstallReaper();
  Session session(runtime);
  CgroupTree tree;
  testing::TempDir scratch("berth-priv-scratch");
  Bundle bundle;
  CaseContext ctx{session, tree, scratch.path(), bundle.path(), bundle.rootfs(), {}};
  bj::object config = BaseConfig(c.args, tree.CgroupsPath("ctr"));
  if (c.configure) c.configure(config, ctx);
  bundle.WriteConfig(config);
  Observation obs;
  {
    Container container(session, "ctr", bundle.path());
    (c.flow ? c.flow : RunToExit())(container, ctx, obs);
  }
  for (auto& [key, value] : obs)
    value = Normalize(std::move(value), ctx);
  // Whatever the flow did, the cgroup tree holds nothing after delete.
  std::set<std::string> left = tree.Contents();
  obs["cgroups_left"] = Join(std::vector<std::string>(left.begin(), left.end()), " ");
  ctx.netns.clear();
  return obs;
}

namespace {

void Expect(const Expectation& e, const Observation& obs) {
  auto it = obs.find(e.first);
  if (it == obs.end()) {
    ADD_FAILURE() << "facet `" << e.first << "` was not observed";
    return;
  }
  EXPECT_THAT(it->second, e.second) << "facet `" << e.first << "`";
}

}  // namespace

void CheckExpectations(const Case& c, const std::string& runtime, const Observation& obs) {
  EXPECT_FALSE(c.expect.empty()) << "case " << c.name << " expects nothing";
  // Every case ends with the container deleted: its cgroup must be gone.
  Expect({"cgroups_left", ::testing::Eq("")}, obs);
  for (const Expectation& e : c.expect)
    Expect(e, obs);
  for (const auto& [name, e] : c.expect_on) {
    if (name == runtime) Expect(e, obs);
  }
}

void CheckSameAs(const Case& c, const Observation& got, const Observation& reference) {
  std::set<std::string> keys;
  for (const auto& [k, v] : got)
    keys.insert(k);
  for (const auto& [k, v] : reference)
    keys.insert(k);
  for (const std::string& k : keys) {
    auto why = c.differences.find(k);
    auto g = got.find(k);
    auto r = reference.find(k);
    std::string gv = g == got.end() ? "<absent>" : g->second;
    std::string rv = r == reference.end() ? "<absent>" : r->second;
    if (why != c.differences.end()) {
      if (gv != rv) ::testing::Test::RecordProperty("difference_" + k, why->second);
      continue;
    }
    EXPECT_EQ(gv, rv) << "facet `" << k << "` differs from runc's";
  }
}

const Observation& ReferenceObservation(const Case& c) {
  auto& cache = ReferenceCache();
  auto it = cache.find(c.name);
  if (it == cache.end()) it = cache.emplace(c.name, RunCase(Runc(), c)).first;
  return it->second;
}

void RememberReference(const Case& c, const Observation& obs) {
  ReferenceCache()[c.name] = obs;
}

void RunConformanceCase(const Runtime& runtime, const Case& c) {
  BERTH_REQUIRE(testing::IsRoot(), "root");
  BERTH_REQUIRE(FixturesBuilt(), "the busybox fixture rootfs (target berth_fixture_rootfs)");
  BERTH_REQUIRE(runtime.available(), runtime.path);
  BERTH_REQUIRE(Runc().available(), "runc (Debian package runc) as the reference");
  Observation obs = RunCase(runtime, c);
  for (const auto& [k, v] : obs)
    ::testing::Test::RecordProperty("facet_" + k, v);
  if (std::getenv("BERTH_PRIV_VERBOSE") != nullptr) {
    for (const auto& [k, v] : obs)
      std::printf("[%s] %s = %s\n", runtime.name.c_str(), k.c_str(), v.c_str());
  }
  {
    SCOPED_TRACE(runtime.name + " expectations");
    CheckExpectations(c, runtime.name, obs);
  }
  if (runtime.name == Runc().name) {
    RememberReference(c, obs);
    return;
  }
  SCOPED_TRACE(runtime.name + " vs runc");
  CheckSameAs(c, obs, ReferenceObservation(c));
}

std::vector<size_t> Indexes(size_t n) {
  std::vector<size_t> out(n);
  for (size_t i = 0; i < n; ++i)
    out[i] = i;
  return out;
}

std::string StripCr(std::string text) {
  text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());
  return text;
}

std::string NormalizeMountinfo(const std::string& text) {
  std::string out;
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> f = SplitNonEmpty(line, ' ');
    if (f.size() < 10) continue;
    std::string prop;
    size_t i = 6;
    for (; i < f.size() && f[i] != "-"; ++i) {
      std::string kind = f[i].substr(0, f[i].find(':'));
      prop += (prop.empty() ? "" : ",") + kind;
    }
    if (i + 2 >= f.size()) continue;
    out += f[3] + " " + f[4] + " " + f[5] + " [" + prop + "] " + f[i + 1] + " " + f[i + 2] + " " +
           (i + 3 < f.size() ? f[i + 3] : "") + "\n";
  }
  return out;
}

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string GrepLines(const std::string& text, const std::string& needle) {
  std::string out;
  for (const std::string& line : Split(text, '\n')) {
    if (line.find(needle) != std::string::npos) out += line + "\n";
  }
  return out;
}

bj::array JsonStrings(const std::vector<std::string>& items) {
  bj::array a;
  for (const std::string& s : items)
    a.emplace_back(s);
  return a;
}

void AddMount(bj::object& config, const std::string& destination, const std::string& type,
              const std::string& source, const std::vector<std::string>& options) {
  bj::object m;
  m["destination"] = destination;
  m["type"] = type;
  m["source"] = source;
  m["options"] = JsonStrings(options);
  config["mounts"].as_array().push_back(std::move(m));
}

void SetNamespaces(bj::object& config, const std::vector<std::string>& types) {
  bj::array ns;
  for (const std::string& t : types)
    ns.push_back(bj::object{{"type", t}});
  config["linux"].as_object()["namespaces"] = std::move(ns);
}

std::vector<std::string> Probe(const std::vector<std::string>& args) {
  std::vector<std::string> out = {"/bin/berth-probe"};
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

}  // namespace berth::priv
