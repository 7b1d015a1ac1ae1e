#include "integration/e2e/e2e_fixture.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <thread>

#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::e2e {

namespace v1 = ::runtime::v1;

std::unique_ptr<BerthUp> E2eTest::up_;
std::unique_ptr<agent::CriClient> E2eTest::cri_;

void E2eTest::SetUpTestSuite() {
  // Hard requirements of this tier: a missing one is a failure, not a skip.
  for (const char* version : {kKubectl133, kKubectl127}) {
    ASSERT_EQ(::access(KubectlPath(version).c_str(), X_OK), 0)
        << "prerequisite missing: " << KubectlPath(version)
        << " (google-cloud-cli-kubectl; or set BERTH_KUBECTL_DIR)";
  }
  ASSERT_EQ(::access("/bin/busybox", X_OK), 0)
      << "prerequisite missing: /bin/busybox (busybox-static), the demo image's rootfs";
  if (!testing::IsRoot()) {
    if (testing::InCi()) FAIL() << "prerequisite missing: root";
    GTEST_SKIP() << "prerequisite missing: root";
  }
  Result<std::unique_ptr<BerthUp>> up = BerthUp::Start();
  ASSERT_TRUE(up.ok()) << up.error().str();
  up_ = std::move(*up);
}

void E2eTest::TearDownTestSuite() {
  cri_.reset();
  if (!up_) return;
  Status s = up_->Shutdown();
  EXPECT_TRUE(s.ok()) << s.error().str() << "\nberth up log:\n" << up_->Log();
  up_.reset();
}

void E2eTest::SetUp() {
  if (!up_) GTEST_SKIP() << "berth up did not start (see the suite's failure)";
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string("e2e-") + info->name();
  for (char& c : name) {
    c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-';
  }
  name = name.substr(0, 63);
  while (!name.empty() && name.back() == '-')
    name.pop_back();
  ns_ = name;
  CommandResult created = Kubectl({"create", "namespace", ns_});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  // Pods are admitted only once the namespace's default service account
  // exists, as upstream.
  ASSERT_TRUE(Eventually(
      std::chrono::seconds(10),
      [&] { return !Get("/api/v1/namespaces/" + ns_ + "/serviceaccounts/default").is_null(); }))
      << "no default service account in " << ns_;
}

CommandResult E2eTest::Kubectl(const std::vector<std::string>& args, const KubectlCall& call) {
  std::vector<std::string> full = {"--namespace=" + (ns_.empty() ? "default" : ns_)};
  full.insert(full.end(), args.begin(), args.end());
  Result<CommandResult> r = up_->Kubectl(full, call);
  if (!r.ok()) {
    ADD_FAILURE() << "kubectl " << args.front() << ": " << r.error().str();
    return CommandResult{};
  }
  return *r;
}

bool E2eTest::Apply(const std::string& manifest) {
  KubectlCall call;
  call.stdin_data = manifest;
  CommandResult r = Kubectl({"apply", "-f", "-"}, call);
  EXPECT_EQ(r.exit_code, 0) << "kubectl apply: " << r.out << r.err << "\n" << manifest;
  return r.exit_code == 0;
}

bj::value E2eTest::Get(const std::string& path) {
  Result<controlplane::client::ApiResponse> r = up_->api().Do("GET", path);
  if (!r.ok() || r->status != 200) return nullptr;
  return r->Json();
}

bj::value E2eTest::GetPod(const std::string& name) {
  return Get("/api/v1/namespaces/" + ns_ + "/pods/" + name);
}

bj::value E2eTest::WaitPod(const std::string& name, const std::string& what,
                           std::chrono::milliseconds timeout,
                           const std::function<bool(const bj::value&)>& done) {
  bj::value pod;
  if (Eventually(timeout, [&] {
        pod = GetPod(name);
        return done(pod);
      })) {
    return pod;
  }
  ADD_FAILURE() << "pod " << ns_ << "/" << name << ": not " << what << " within " << timeout.count()
                << " ms; last seen:\n"
                << Describe(pod) << "\nevents: " << ::testing::PrintToString(EventReasons(name));
  return pod;
}

bool E2eTest::Eventually(std::chrono::milliseconds timeout, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

namespace {

std::vector<const bj::value*> EventsAbout(const bj::value& list, const std::string& pod) {
  std::vector<const bj::value*> out;
  const bj::value* items = Field(list, "/items");
  if (items == nullptr || !items->is_array()) return out;
  for (const bj::value& e : items->as_array()) {
    if (StringAt(e, "/involvedObject/name") == pod) out.push_back(&e);
  }
  // Oldest first (by the time the event was last seen, then its creation).
  std::stable_sort(out.begin(), out.end(), [](const bj::value* a, const bj::value* b) {
    return StringAt(*a, "/metadata/creationTimestamp") <
           StringAt(*b, "/metadata/creationTimestamp");
  });
  return out;
}

}  // namespace

std::vector<std::string> E2eTest::EventReasons(const std::string& pod) {
  bj::value list = Get("/api/v1/namespaces/" + ns_ + "/events");
  std::vector<std::string> out;
  for (const bj::value* e : EventsAbout(list, pod))
    out.push_back(StringAt(*e, "/reason"));
  return out;
}

int64_t E2eTest::EventCount(const std::string& pod, const std::string& reason) {
  bj::value list = Get("/api/v1/namespaces/" + ns_ + "/events");
  int64_t n = 0;
  for (const bj::value* e : EventsAbout(list, pod)) {
    if (StringAt(*e, "/reason") == reason) n += std::max<int64_t>(IntAt(*e, "/count"), 1);
  }
  return n;
}

std::vector<std::string> E2eTest::EventMessages(const std::string& pod, const std::string& reason) {
  bj::value list = Get("/api/v1/namespaces/" + ns_ + "/events");
  std::vector<std::string> out;
  for (const bj::value* e : EventsAbout(list, pod)) {
    if (StringAt(*e, "/reason") == reason) out.push_back(StringAt(*e, "/message"));
  }
  return out;
}

bool E2eTest::PodDeleted(const std::string& name) {
  Result<controlplane::client::ApiResponse> r =
      up_->api().Do("GET", "/api/v1/namespaces/" + ns_ + "/pods/" + name);
  return r.ok() && r->status == 404;
}

std::vector<std::string> E2eTest::RuntimeObjectsOf(const std::string& uid, bool running_only) {
  std::vector<std::string> out;
  agent::CriClient* cri = Cri();
  if (cri == nullptr) return {"no CRI"};
  v1::ListPodSandboxRequest list;
  (*list.mutable_filter()->mutable_label_selector())["io.kubernetes.pod.uid"] = uid;
  v1::ListPodSandboxResponse sandboxes;
  Status s =
      cri->Call(&v1::RuntimeService::Stub::ListPodSandbox, list, &sandboxes, "ListPodSandbox");
  if (!s.ok()) return {s.error().str()};
  for (const v1::PodSandbox& sb : sandboxes.items()) {
    if (running_only && sb.state() != v1::SANDBOX_READY) continue;
    out.push_back("sandbox " + sb.id().substr(0, 12) + " " + v1::PodSandboxState_Name(sb.state()));
  }
  v1::ListContainersRequest list_c;
  (*list_c.mutable_filter()->mutable_label_selector())["io.kubernetes.pod.uid"] = uid;
  v1::ListContainersResponse containers;
  s = cri->Call(&v1::RuntimeService::Stub::ListContainers, list_c, &containers, "ListContainers");
  if (!s.ok()) return {s.error().str()};
  for (const v1::Container& c : containers.containers()) {
    if (running_only && c.state() != v1::CONTAINER_RUNNING && c.state() != v1::CONTAINER_CREATED)
      continue;
    out.push_back("container " + c.metadata().name() + " " + v1::ContainerState_Name(c.state()));
  }
  return out;
}

agent::CriClient* E2eTest::Cri() {
  if (!cri_) {
    Result<std::unique_ptr<agent::CriClient>> c = agent::CriClient::Dial(up_->cri_socket());
    if (!c.ok()) {
      ADD_FAILURE() << "CRI socket " << up_->cri_socket() << ": " << c.error().str();
      return nullptr;
    }
    cri_ = std::move(*c);
  }
  return cri_.get();
}

std::string Describe(const bj::value& pod) {
  if (pod.is_null()) return "(no such pod)";
  const bj::value* status = Field(pod, "/status");
  return status == nullptr ? bj::serialize(pod) : bj::serialize(*status);
}

bool IsReady(const bj::value& pod) {
  return Condition(pod, "Ready") == "True";
}

}  // namespace berth::e2e
