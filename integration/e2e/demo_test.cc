// Acceptance 1: the README's demo (examples/demo.yaml) on a fresh
// `berth up`: every pod Ready and answering HTTP within 60 s. Issue 8
// acceptance 6: the demo Service's ClusterIP answers through berth's proxy
// from a pod and from a node process in the proxy's berth-host cgroup (and
// not from one outside it: nothing but the proxy routes a ClusterIP here).

#include "cgroups/cgroups.h"
#include "common/file.h"
#include "common/strings.h"
#include "integration/e2e/e2e_fixture.h"
#include "integration/e2e/http_get.h"

namespace berth::e2e {
namespace {

using std::chrono::seconds;

constexpr char kPage[] = "hello from berth\n";

// Processes named `comm` whose cgroup v2 directory is `dir` or below it.
int ProcessesBelow(const std::string& comm, const std::string& dir) {
  Result<cgroups::Layout> layout = cgroups::Detect();
  if (!layout.ok() || layout->unified_mount.empty()) return 0;
  int n = 0;
  for (const std::string& entry : ListDir("/proc").value_or(std::vector<std::string>{})) {
    if (entry.empty() || entry.find_first_not_of("0123456789") != std::string::npos) continue;
    if (Trim(ReadFile("/proc/" + entry + "/comm").value_or("")) != comm) continue;
    Result<std::map<std::string, std::string>> own =
        cgroups::ParseProcCgroup(ReadFile("/proc/" + entry + "/cgroup").value_or(""));
    if (!own.ok() || !own->count(cgroups::kUnified)) continue;
    std::string path = CleanPath(layout->unified_mount + "/" + own->at(cgroups::kUnified));
    if (path == dir || path.starts_with(dir + "/")) ++n;
  }
  return n;
}

class DemoTest : public E2eTest {};

TEST_F(DemoTest, DeploymentServesHttpWithin60Seconds) {
  Result<std::string> demo = ReadFile(testing::SourceDir() + "/examples/demo.yaml");
  ASSERT_TRUE(demo.ok()) << demo.error().str();
  ASSERT_TRUE(Apply(*demo));
  auto deadline = up().started_at() + std::chrono::seconds(60);
  std::vector<std::string> ips;
  std::vector<std::string> names;
  bool all_ready = Eventually(std::chrono::seconds(60), [&] {
    bj::value pods = Get("/api/v1/namespaces/" + ns() + "/pods?labelSelector=app%3Ddemo");
    const bj::value* items = Field(pods, "/items");
    if (items == nullptr || items->as_array().size() != 2) return false;
    ips.clear();
    names.clear();
    for (const bj::value& pod : items->as_array()) {
      if (!IsReady(pod) || StringAt(pod, "/status/podIP").empty()) return false;
      ips.push_back(StringAt(pod, "/status/podIP"));
      names.push_back(StringAt(pod, "/metadata/name"));
    }
    return true;
  });
  ASSERT_TRUE(all_ready) << Kubectl({"get", "pods", "-o", "wide"}).out
                         << Kubectl({"describe", "pods"}).out;
  for (const std::string& ip : ips) {
    Result<HttpAnswer> answer = HttpGet(ip, 8080, "/");
    ASSERT_TRUE(answer.ok()) << answer.error().str();
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->body, kPage);
  }
  EXPECT_LT(std::chrono::steady_clock::now(), deadline)
      << "the demo answered, but more than 60 s after berth up started";
  // The Service selects both pods: its EndpointSlice lists them ready.
  EXPECT_TRUE(Eventually(std::chrono::seconds(10), [&] {
    bj::value slices = Get("/apis/discovery.k8s.io/v1/namespaces/" + ns() +
                           "/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Ddemo");
    const bj::value* items = Field(slices, "/items");
    if (items == nullptr || items->as_array().empty()) return false;
    size_t ready = 0;
    for (const bj::value& slice : items->as_array()) {
      const bj::value* endpoints = Field(slice, "/endpoints");
      if (endpoints == nullptr || !endpoints->is_array()) continue;
      for (const bj::value& e : endpoints->as_array()) {
        if (Field(e, "/conditions/ready") != nullptr && e.at_pointer("/conditions/ready") == true)
          ++ready;
      }
    }
    return ready == ips.size();
  })) << Kubectl({"get", "endpointslices", "-o", "yaml"}).out;

  // The proxy attaches where the runtime put the pods' processes.
  Result<std::string> pods_cgroup = up().PodsCgroup();
  Result<std::string> host_cgroup = up().HostCgroup();
  ASSERT_TRUE(pods_cgroup.ok()) << pods_cgroup.error().str();
  ASSERT_TRUE(host_cgroup.ok()) << host_cgroup.error().str();
  // Two pods' httpd, and a child of one serving a probe at times.
  EXPECT_GE(ProcessesBelow("httpd", *pods_cgroup), 2)
      << "the demo's httpd processes are not in " << *pods_cgroup;
  ASSERT_TRUE(PathExists(*host_cgroup + "/cgroup.procs")) << "no host cgroup " << *host_cgroup;

  // The ClusterIP from a pod.
  std::string cluster_ip =
      StringAt(Get("/api/v1/namespaces/" + ns() + "/services/demo"), "/spec/clusterIP");
  ASSERT_FALSE(cluster_ip.empty());
  const std::string url = "http://" + cluster_ip + ":80/";
  // Deadlines come from kubectl and RunCommand: Debian's busybox 1.35
  // wget crashes on -T.
  KubectlCall exec_call;
  exec_call.timeout = seconds(10);
  CommandResult from_pod;
  EXPECT_TRUE(Eventually(
      seconds(20),
      [&] {
        from_pod = Kubectl({"exec", names.front(), "--", "wget", "-qO-", url}, exec_call);
        return from_pod.exit_code == 0 && from_pod.out == kPage;
      }))
      << "kubectl exec " << names.front() << " -- wget " << url << ": exit " << from_pod.exit_code
      << "\n"
      << from_pod.out << from_pod.err << "\nberth up log:\n"
      << up().Log();

  // From the node: a process that joined berth-host first.
  Command in_host;
  in_host.argv = {"/bin/sh", "-c",
                  "echo $$ > \"$0/cgroup.procs\" && exec /bin/busybox wget -qO- \"$1\"",
                  *host_cgroup, url};
  in_host.timeout = seconds(10);
  Result<CommandResult> from_node = Error(Errc::kUnavailable, "not run");
  EXPECT_TRUE(Eventually(seconds(20),
                         [&] {
                           from_node = RunCommand(in_host);
                           return from_node.ok() && from_node->success() && from_node->out == kPage;
                         }))
      << "wget " << url << " from " << *host_cgroup << ": "
      << (from_node.ok() ? from_node->Describe() + "\n" + from_node->out + from_node->err
                         : from_node.error().str());

  // Outside berth's cgroups nothing routes the ClusterIP.
  Command outside;
  outside.argv = {"/bin/busybox", "wget", "-qO-", url};
  outside.timeout = seconds(10);
  Result<CommandResult> from_outside = RunCommand(outside);
  ASSERT_TRUE(from_outside.ok()) << from_outside.error().str();
  EXPECT_FALSE(from_outside->success())
      << "the ClusterIP answered a process outside berth's cgroups: " << from_outside->out;
}

}  // namespace
}  // namespace berth::e2e
