// Issue 8 acceptance 3: endpoint churn through berth's service proxy. A
// Deployment scaled 3 -> 10 -> 1 while a node process in the proxy's
// berth-host cgroup connects to the ClusterIP every 15 ms: no connection
// goes to a backend after the test observed (through the API, as the proxy
// does) its EndpointSlice update taking it out, none fails, and
// connections made to the backends before the scale-down still carry
// data after it.
//
// The backends are busybox `nc -ll` servers that answer each connection
// with their pod name and then echo. As PID 1 they ignore SIGTERM, so a
// removed pod keeps serving until its grace period (12 s) ends: a
// connection the proxy still sent there would succeed and name the pod,
// which is what the check looks for.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <sstream>
#include <thread>

#include "controlplane/client/informer.h"
#include "integration/e2e/e2e_fixture.h"

namespace berth::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kManifest[] = R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: churn}
spec:
  replicas: 3
  selector: {matchLabels: {app: churn}}
  template:
    metadata: {labels: {app: churn}}
    spec:
      # nc is PID 1 and ignores SIGTERM: a removed pod serves until killed
      # (the test is done with it about 3 s after the scale-down).
      terminationGracePeriodSeconds: 12
      containers:
      - name: echo
        image: berth.local/demo:latest
        imagePullPolicy: Never
        command: ["nc", "-ll", "-p", "9000", "-e", "sh", "-c", "echo $POD_NAME; exec cat"]
        env:
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        ports:
        - {containerPort: 9000, name: echo}
        readinessProbe:
          tcpSocket: {port: echo}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: churn}
spec:
  selector: {app: churn}
  ports:
  - {name: echo, port: 80, targetPort: echo}
)";

// How long after the test observed an endpoint leave the EndpointSlice a
// connection may still reach it. The proxy watches the same slices on the
// same apiserver and gets the same event at about the same instant; this
// covers its turning the event into map writes and being scheduled on a
// loaded 2-core runner. The lag actually seen is printed.
constexpr milliseconds kPropagation{1000};
constexpr milliseconds kRequestInterval{15};

// ---- node-side clients ------------------------------------------------
// Forked children of the test that first join berth-host (the socket LB
// translates connects only there) and then use nothing but syscalls and
// the shared mapping: the test process has threads (the informer, the API
// client), so a child of fork() must not allocate or take locks.

constexpr size_t kNameSize = 64;
constexpr uint32_t kMaxRequests = 16384;
constexpr int kMaxHeld = 16;
constexpr int kHoldAttempts = 300;

struct Request {
  int64_t start_ns;  // CLOCK_MONOTONIC before connect()
  int32_t err;       // errno of the failure; 0 when ok or for an empty answer
  char stage;        // 0 ok; 's' socket, 'c' connect, 'r' read, 'e' empty answer
  char backend[kNameSize];
};

struct Held {
  char backend[kNameSize];
  int32_t err;
  char stage;  // 0 the ping came back; 'w' write, 'r' read, 'm' another answer
};

struct Shared {
  std::atomic<int> stop;
  std::atomic<int> join_errno;  // joining berth-host failed
  std::atomic<uint32_t> requests;
  Request request[kMaxRequests];
  // The holder: opens connections until it holds `want_held` backends,
  // pings each when `ping` is set.
  std::atomic<int> want_held;
  std::atomic<int> held;
  std::atomic<int> holding;  // done opening
  std::atomic<int> ping;
  std::atomic<int> pinged;
  Held held_conn[kMaxHeld];
};

int64_t NowNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void SleepMs(int ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1'000'000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// Reads up to and without the first '\n' into `out` (NUL-terminated);
// its length, or -errno (-ETIMEDOUT after SO_RCVTIMEO), 0 on EOF first.
int ReadLine(int fd, char* out, size_t size) {
  size_t len = 0;
  while (len + 1 < size) {
    ssize_t n = ::recv(fd, out + len, size - 1 - len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN ? -ETIMEDOUT : -errno;
    if (n == 0) break;
    len += static_cast<size_t>(n);
    if (std::memchr(out, '\n', len) != nullptr) break;
  }
  out[len] = '\0';
  char* nl = static_cast<char*>(std::memchr(out, '\n', len));
  if (nl != nullptr) *nl = '\0';
  return static_cast<int>(std::strlen(out));
}

// A connected socket to `target` with 2 s send/receive deadlines; -1 with
// *stage and *err set.
int Dial(const sockaddr_in& target, char* stage, int32_t* err) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *stage = 's';
    *err = errno;
    return -1;
  }
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&target), sizeof target) != 0) {
    *stage = 'c';
    *err = errno == EINPROGRESS ? ETIMEDOUT : errno;  // a connect cut by SO_SNDTIMEO
    ::close(fd);
    return -1;
  }
  return fd;
}

// Connects and reads the backend's name; the socket (or -1).
int Greet(const sockaddr_in& target, char* backend, char* stage, int32_t* err) {
  int fd = Dial(target, stage, err);
  if (fd < 0) return -1;
  int n = ReadLine(fd, backend, kNameSize);
  if (n <= 0) {
    *stage = n == 0 ? 'e' : 'r';
    *err = -n;
    ::close(fd);
    return -1;
  }
  return fd;
}

void ClientLoop(Shared* s, const sockaddr_in& target) {
  while (s->stop.load() == 0) {
    uint32_t i = s->requests.load(std::memory_order_relaxed);
    if (i >= kMaxRequests) return;
    Request& r = s->request[i];
    r.start_ns = NowNs();
    int fd = Greet(target, r.backend, &r.stage, &r.err);
    if (fd >= 0) ::close(fd);
    s->requests.store(i + 1, std::memory_order_release);
    SleepMs(static_cast<int>(kRequestInterval.count()));
  }
}

void Ping(int fd, Held& h) {
  static constexpr char kPing[] = "ping\n";
  if (::send(fd, kPing, sizeof kPing - 1, MSG_NOSIGNAL) < 0) {
    h.stage = 'w';
    h.err = errno;
    return;
  }
  char answer[kNameSize];
  int n = ReadLine(fd, answer, sizeof answer);
  if (n < 0) {
    h.stage = 'r';
    h.err = -n;
  } else if (std::strcmp(answer, "ping") != 0) {
    h.stage = 'm';
  }
}

void HoldLoop(Shared* s, const sockaddr_in& target) {
  int fds[kMaxHeld];
  int n = 0;
  int want = std::min(s->want_held.load(), kMaxHeld);
  for (int attempt = 0; attempt < kHoldAttempts && n < want && s->stop.load() == 0; ++attempt) {
    Held& h = s->held_conn[n];
    int fd = Greet(target, h.backend, &h.stage, &h.err);
    if (fd < 0) continue;  // the client loop's check counts failures; this one just holds
    bool seen = false;
    for (int i = 0; i < n; ++i)
      seen = seen || std::strcmp(s->held_conn[i].backend, h.backend) == 0;
    if (seen) {
      ::close(fd);
      continue;
    }
    h.stage = 0;
    h.err = 0;
    fds[n++] = fd;
    s->held.store(n);
  }
  s->holding.store(1);
  while (s->stop.load() == 0 && s->ping.load() == 0)
    SleepMs(10);
  if (s->ping.load() != 0) {
    for (int i = 0; i < n; ++i)
      Ping(fds[i], s->held_conn[i]);
    s->pinged.store(1);
  }
  while (s->stop.load() == 0)
    SleepMs(10);
  for (int i = 0; i < n; ++i)
    ::close(fds[i]);
}

using ChildBody = void (*)(Shared*, const sockaddr_in&);

// A child in the cgroup whose cgroup.procs is `procs` running `body`.
Result<ChildGuard> ForkInCgroup(const std::string& procs, Shared* s, const sockaddr_in& target,
                                ChildBody body) {
  const char* path = procs.c_str();
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return Error(Errc::kInternal, std::string("fork: ") + std::strerror(errno));
  if (pid > 0) return ChildGuard(pid);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(1);
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  // "0" moves the writing process.
  if (fd < 0 || ::write(fd, "0", 1) != 1) {
    s->join_errno.store(errno == 0 ? EIO : errno);
    ::_exit(1);
  }
  ::close(fd);
  body(s, target);
  ::_exit(0);
}

// Waits for `child` to exit by itself (after Shared::stop); false when it
// did not within `timeout` (the guard then kills it).
bool Reaped(ChildGuard& child, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    pid_t r = ::waitpid(child.get(), &status, WNOHANG);
    if (r == child.get() || (r < 0 && errno == ECHILD)) {
      child.release();
      return true;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return false;
}

// The anonymous shared mapping the children write to.
class SharedMapping {
 public:
  SharedMapping() {
    void* p =
        ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) shared_ = new (p) Shared{};  // zeroed, atomics included
  }
  ~SharedMapping() {
    if (shared_ != nullptr) ::munmap(shared_, sizeof(Shared));
  }
  Shared* get() const { return shared_; }

 private:
  Shared* shared_ = nullptr;
};

// ---- what the test observes of the EndpointSlices ---------------------

struct Transition {
  Clock::time_point at;
  std::string pod;
  bool ready;
};

// Watches the Service's EndpointSlices (an informer, as the proxy's) and
// timestamps each pod's endpoint becoming ready and leaving (absent, or
// ready false) as the events arrive.
class SliceObserver {
 public:
  SliceObserver(controlplane::client::ApiClient& api, const std::string& ns,
                const std::string& service)
      : informer_(api,
                  "/apis/discovery.k8s.io/v1/namespaces/" + ns +
                      "/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D" + service,
                  {.added = [this](const bj::object& s) { OnSlice(s, false); },
                   .updated = [this](const bj::object&, const bj::object& s) { OnSlice(s, false); },
                   .deleted = [this](const bj::object& s) { OnSlice(s, true); }}) {
    informer_.Start();
  }
  ~SliceObserver() { informer_.Stop(); }

  std::set<std::string> Ready() const {
    std::lock_guard lock(mu_);
    return ready_;
  }
  std::vector<Transition> Transitions() const {
    std::lock_guard lock(mu_);
    return transitions_;
  }

 private:
  void OnSlice(const bj::object& slice, bool deleted) {
    auto now = Clock::now();
    std::set<std::string> pods;
    bj::value v = slice;
    const bj::value* endpoints = Field(v, "/endpoints");
    if (!deleted && endpoints != nullptr && endpoints->is_array()) {
      for (const bj::value& e : endpoints->as_array()) {
        // The API: an unset `ready` means ready.
        const bj::value* ready = Field(e, "/conditions/ready");
        bool is_ready = ready == nullptr || !ready->is_bool() || ready->as_bool();
        std::string pod = StringAt(e, "/targetRef/name");
        if (is_ready && !pod.empty()) pods.insert(pod);
      }
    }
    std::lock_guard lock(mu_);
    by_slice_[StringAt(v, "/metadata/name")] = std::move(pods);
    std::set<std::string> now_ready;
    for (const auto& [name, ready] : by_slice_)
      now_ready.insert(ready.begin(), ready.end());
    for (const std::string& pod : now_ready) {
      if (!ready_.contains(pod)) transitions_.push_back({now, pod, true});
    }
    for (const std::string& pod : ready_) {
      if (!now_ready.contains(pod)) transitions_.push_back({now, pod, false});
    }
    ready_ = std::move(now_ready);
  }

  mutable std::mutex mu_;
  std::map<std::string, std::set<std::string>> by_slice_;
  std::set<std::string> ready_;
  std::vector<Transition> transitions_;
  controlplane::client::Informer informer_;  // last: stopped before the members it calls
};

Clock::time_point AtNs(int64_t ns) {
  return Clock::time_point(std::chrono::nanoseconds(ns));
}

std::string Ms(Clock::duration d) {
  return std::to_string(std::chrono::duration_cast<milliseconds>(d).count()) + " ms";
}

std::string Failure(const Request& r) {
  std::string stage = r.stage == 's'   ? "socket"
                      : r.stage == 'c' ? "connect"
                      : r.stage == 'r' ? "read"
                                       : "empty answer";
  return stage + (r.err != 0 ? std::string(": ") + std::strerror(r.err) : "");
}

class ProxyChurnTest : public E2eTest {
 protected:
  // Every published request of the client loop.
  std::vector<Request> Requests(const Shared& s) {
    uint32_t n = std::min(s.requests.load(std::memory_order_acquire), kMaxRequests);
    return std::vector<Request>(s.request, s.request + n);
  }
  // The pods that answered the client loop so far.
  std::set<std::string> Answered(const Shared& s) {
    std::set<std::string> out;
    for (const Request& r : Requests(s)) {
      if (r.stage == 0) out.insert(r.backend);
    }
    return out;
  }
  bool Scale(int replicas) {
    CommandResult r =
        Kubectl({"scale", "deployment/churn", "--replicas=" + std::to_string(replicas)});
    EXPECT_EQ(r.exit_code, 0) << "kubectl scale: " << r.out << r.err;
    return r.exit_code == 0;
  }
  std::string State() {
    return Kubectl({"get", "pods,endpointslices", "-o", "wide"}).out + "\nberth up log:\n" +
           up().Log();
  }
};

TEST_F(ProxyChurnTest, ScaleThreeTenOneNoStaleBackendNoCutConnection) {
  SharedMapping mapping;
  Shared* shared = mapping.get();
  ASSERT_NE(shared, nullptr) << "mmap: " << std::strerror(errno);
  Result<std::string> host_cgroup = up().HostCgroup();
  ASSERT_TRUE(host_cgroup.ok()) << host_cgroup.error().str();
  const std::string procs = *host_cgroup + "/cgroup.procs";

  SliceObserver slices(up().api(), ns(), "churn");
  ASSERT_TRUE(Apply(kManifest));
  ASSERT_TRUE(Eventually(seconds(60), [&] { return slices.Ready().size() == 3; }))
      << "3 ready endpoints\n"
      << State();

  std::string cluster_ip =
      StringAt(Get("/api/v1/namespaces/" + ns() + "/services/churn"), "/spec/clusterIP");
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_port = htons(80);
  ASSERT_EQ(::inet_pton(AF_INET, cluster_ip.c_str(), &target.sin_addr), 1) << cluster_ip;

  Result<ChildGuard> client = ForkInCgroup(procs, shared, target, ClientLoop);
  ASSERT_TRUE(client.ok()) << client.error().str();
  ChildGuard holder;
  // However the test ends, the children stop and leave berth-host.
  struct Stop {
    Shared* s;
    ~Stop() { s->stop.store(1); }
  } stop_children{shared};

  // 3 -> 10: every new backend answers the node once it is ready.
  ASSERT_TRUE(Eventually(seconds(10), [&] { return Answered(*shared).size() == 3; }))
      << (shared->join_errno.load() != 0
              ? "joining berth-host: " + std::string(std::strerror(shared->join_errno.load()))
              : "")
      << "\nanswered: " << ::testing::PrintToString(Answered(*shared)) << State();
  ASSERT_TRUE(Scale(10));
  ASSERT_TRUE(Eventually(seconds(90),
                         [&] {
                           std::set<std::string> ready = slices.Ready();
                           return ready.size() == 10 && Answered(*shared) == ready;
                         }))
      << "10 ready endpoints, all answering: ready " << ::testing::PrintToString(slices.Ready())
      << ", answered " << ::testing::PrintToString(Answered(*shared)) << "\n"
      << State();

  // Connections to as many backends as there are, held across the scale-down.
  shared->want_held.store(10);
  Result<ChildGuard> forked_holder = ForkInCgroup(procs, shared, target, HoldLoop);
  ASSERT_TRUE(forked_holder.ok()) << forked_holder.error().str();
  holder = std::move(*forked_holder);
  ASSERT_TRUE(Eventually(seconds(30), [&] { return shared->holding.load() != 0; }));
  ASSERT_GE(shared->held.load(), 2) << "connections to 2 backends at least: one of them goes";

  // 10 -> 1.
  const auto scaled_down = Clock::now();
  ASSERT_TRUE(Scale(1));
  ASSERT_TRUE(Eventually(seconds(30), [&] { return slices.Ready().size() == 1; }))
      << "1 ready endpoint: " << ::testing::PrintToString(slices.Ready()) << "\n"
      << State();
  const std::string survivor = *slices.Ready().begin();
  const auto last_removal = Clock::now();  // no earlier than the last update observed

  // The held connections, their backends gone from the slice and from the
  // proxy's maps: still open.
  std::this_thread::sleep_for(kPropagation);
  const auto ping_at = Clock::now();
  shared->ping.store(1);
  ASSERT_TRUE(Eventually(seconds(10), [&] { return shared->pinged.load() != 0; }));
  // The client keeps going: its requests after the removals plus the
  // allowance all go to the survivor.
  std::this_thread::sleep_until(last_removal + kPropagation + seconds(2));
  shared->stop.store(1);
  EXPECT_TRUE(Reaped(*client, seconds(5))) << "the client loop did not stop";
  EXPECT_TRUE(Reaped(holder, seconds(5))) << "the holder did not stop";
  std::vector<Request> requests = Requests(*shared);
  std::vector<Transition> transitions = slices.Transitions();

  // No request failed.
  std::ostringstream failures;
  int failed = 0;
  for (const Request& r : requests) {
    if (r.stage == 0) continue;
    if (++failed <= 10) {
      failures << "  at " << Ms(AtNs(r.start_ns) - scaled_down)
               << " from the scale-down: " << Failure(r) << "\n";
    }
  }
  EXPECT_EQ(failed, 0) << "of " << requests.size() << " requests:\n" << failures.str();

  // No request started more than kPropagation after its backend was seen
  // leaving the slice (and before it was seen back) reached it.
  std::map<std::string, std::vector<Transition>> by_pod;
  for (const Transition& t : transitions)
    by_pod[t.pod].push_back(t);
  std::set<std::string> removed;
  std::ostringstream stale;
  int stale_count = 0;
  Clock::duration max_lag = Clock::duration::min();
  for (const auto& [pod, changes] : by_pod) {
    for (size_t i = 0; i < changes.size(); ++i) {
      if (changes[i].ready) continue;
      removed.insert(pod);
      auto left = changes[i].at;
      auto back = i + 1 < changes.size() ? changes[i + 1].at : Clock::time_point::max();
      for (const Request& r : requests) {
        auto start = AtNs(r.start_ns);
        if (r.stage != 0 || pod != r.backend || start >= back) continue;
        max_lag = std::max(max_lag, start - left);
        if (start < left + kPropagation) continue;
        if (++stale_count <= 10) {
          stale << "  " << pod << ": a connection " << Ms(start - left)
                << " after its endpoint left the slice\n";
        }
      }
    }
  }
  EXPECT_EQ(stale_count, 0) << stale.str();
  EXPECT_EQ(removed.size(), 9u) << ::testing::PrintToString(removed);
  EXPECT_FALSE(removed.contains(survivor));
  // The check had something to check: requests after every removal, all
  // answered by the survivor.
  int after = 0;
  int elsewhere = 0;
  for (const Request& r : requests) {
    if (AtNs(r.start_ns) < last_removal + kPropagation) continue;
    ++after;
    elsewhere += r.stage == 0 && r.backend != survivor ? 1 : 0;
  }
  EXPECT_GE(after, 50) << "requests after the last removal";
  EXPECT_EQ(elsewhere, 0) << "of " << after << " requests after the last removal, not answered by "
                          << survivor;
  std::cout << "[ churn    ] " << requests.size() << " requests, " << failed << " failed; "
            << "the last connection to a removed backend started "
            << (max_lag == Clock::duration::min() ? "never" : Ms(max_lag))
            << " after (negative: before) the test observed its removal\n";

  // Every held connection answers; one of them at least to a removed pod.
  int held = shared->held.load();
  int held_removed = 0;
  for (int i = 0; i < held; ++i) {
    const Held& h = shared->held_conn[i];
    held_removed += removed.contains(h.backend) ? 1 : 0;
    EXPECT_EQ(h.stage, 0) << "the connection held to " << h.backend << " ("
                          << (removed.contains(h.backend) ? "removed" : "kept") << ") failed at "
                          << (h.stage == 'w'   ? "write"
                              : h.stage == 'r' ? "read"
                                               : "echo")
                          << " " << Ms(ping_at - scaled_down) << " after the scale-down"
                          << (h.err != 0 ? std::string(": ") + std::strerror(h.err) : "");
  }
  EXPECT_GE(held_removed, 1) << "no held connection went to a removed pod";
  std::cout << "[ churn    ] " << held << " connections held across the scale-down, "
            << held_removed << " of them to removed pods\n";
}

}  // namespace
}  // namespace berth::e2e
