// bench/apiserver: `berth server` under a write load with watchers, on
// its embedded SQLite store and on Debian's etcd (3.4), side by side in
// the same run (issue 5's benchmark).
//
// Per backend: a fresh server in this process on 127.0.0.1 (etcd started
// as a child on unused ports), 20 watchers on the namespace's pods (each
// on its own connection, counting events), then --pods pod creates spread
// over --clients concurrent clients on kept-alive connections, each
// create timed from request to response. Reported: p50, p99, mean and max
// latency, throughput, and whether every watcher saw every create (with
// the time the last one did). The target is p99 under 50 ms on SQLite;
// the etcd/sqlite ratios are printed.
//
//   apiserver [--pods N] [--clients C] [--watchers W] [--backend sqlite|etcd|both]

#include "controlplane/server/apiserver.h"

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/stats.h"
#include "common/file.h"
#include "common/time.h"
#include "controlplane/server/tests/tls_client.h"
#include "controlplane/storage/tests/etcd_server.h"

namespace {

using berth::MonotonicNanos;
using berth::bench::Mean;
using berth::bench::Percentile;
namespace bj = boost::json;
namespace cp = berth::controlplane;
using cp::http::bhttp::verb;

struct Options {
  int pods = 2000;
  int clients = 8;
  int watchers = 20;
  std::string backend = "both";
};

struct Result {
  std::string backend;
  std::vector<double> latency_ms;
  double seconds = 0;
  int failures = 0;
  int watchers_complete = 0;
  double last_watcher_ms = 0;  // after the first create, when the last watcher saw the last event
};

constexpr char kPod[] =
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","labels":{"app":"bench"}},)"
    R"("spec":{"containers":[{"name":"c","image":"busybox:1.36","command":["sleep","3600"],)"
    R"("resources":{"requests":{"cpu":"10m","memory":"16Mi"}}}]}})";

std::string PodJson(const std::string& name) {
  char buf[512];
  std::snprintf(buf, sizeof buf, kPod, name.c_str());
  return buf;
}

berth::Result<Result> Run(const Options& o, const std::string& backend, const std::string& dir) {
  std::unique_ptr<cp::storage::testing::EtcdServer> etcd;
  cp::ApiServerOptions options;
  options.data_dir = dir + "/server";
  options.bind_address = "127.0.0.1";
  options.secure_port = 0;
  if (backend == "etcd") {
    etcd = BERTH_TRY(cp::storage::testing::EtcdServer::Start(dir));
    options.datastore_endpoint = "http://" + etcd->endpoint();
  }
  std::unique_ptr<cp::ApiServer> server = BERTH_TRY(cp::ApiServer::Start(options));
  std::string ca = BERTH_TRY(berth::ReadFile(options.data_dir + "/pki/ca.crt"));
  berth::pki::Credential admin{BERTH_TRY(berth::ReadFile(options.data_dir + "/pki/admin.crt")),
                               BERTH_TRY(berth::ReadFile(options.data_dir + "/pki/admin.key"))};
  uint16_t port = server->port();
  int64_t start_rv = BERTH_TRY(server->store().CurrentRevision());

  Result r;
  r.backend = backend;
  std::atomic<int64_t> first_create{0};
  std::vector<int64_t> watcher_done(o.watchers, 0);
  std::latch watching(o.watchers);
  std::vector<std::thread> watchers;
  for (int w = 0; w < o.watchers; ++w) {
    watchers.emplace_back([&, w] {
      cp::http::TlsClient client(port, ca, &admin);
      int seen = 0;
      bool counted = false;
      client.Stream("/api/v1/namespaces/default/pods?watch=1&resourceVersion=" +
                        std::to_string(start_rv) + "&timeoutSeconds=600",
                    [&](std::string_view line) {
                      if (!counted) {
                        counted = true;
                        watching.count_down();
                      }
                      if (line.find("\"ADDED\"") != std::string_view::npos) ++seen;
                      if (seen == o.pods) {
                        watcher_done[w] = MonotonicNanos();
                        return false;
                      }
                      return true;
                    });
    });
  }
  // A watch answers only when it has something: a first create per
  // watcher's count_down is the warm-up pod.
  {
    cp::http::TlsClient client(port, ca, &admin);
    (void)client.Do(verb::post, "/api/v1/namespaces/default/pods", PodJson("warm-up"));
  }
  watching.wait();

  std::vector<std::vector<double>> per_client(o.clients);
  std::atomic<int> failures{0};
  std::latch go(o.clients + 1);
  std::vector<std::thread> clients;
  for (int c = 0; c < o.clients; ++c) {
    clients.emplace_back([&, c] {
      cp::http::TlsClient client(port, ca, &admin);
      go.arrive_and_wait();
      for (int i = c; i < o.pods - 1; i += o.clients) {
        int64_t t0 = MonotonicNanos();
        int64_t expected = 0;
        first_create.compare_exchange_strong(expected, t0);
        auto res = client.Do(verb::post, "/api/v1/namespaces/default/pods",
                             PodJson("pod-" + std::to_string(i)));
        per_client[c].push_back(static_cast<double>(MonotonicNanos() - t0) / 1e6);
        if (res.result_int() != 201) ++failures;
      }
    });
  }
  int64_t t0 = MonotonicNanos();
  go.arrive_and_wait();
  for (std::thread& t : clients)
    t.join();
  r.seconds = static_cast<double>(MonotonicNanos() - t0) / 1e9;
  for (const std::vector<double>& v : per_client)
    r.latency_ms.insert(r.latency_ms.end(), v.begin(), v.end());
  r.failures = failures;
  // Watchers end on their last event; give stragglers 30 s.
  int64_t deadline = MonotonicNanos() + 30'000'000'000;
  while (MonotonicNanos() < deadline) {
    int done = 0;
    for (int64_t d : watcher_done)
      done += d != 0;
    if (done == o.watchers) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (int64_t d : watcher_done) {
    if (d == 0) continue;
    ++r.watchers_complete;
    r.last_watcher_ms = std::max(r.last_watcher_ms, static_cast<double>(d - first_create) / 1e6);
  }
  server->Stop();  // ends the watch streams still open
  for (std::thread& t : watchers)
    t.join();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--pods")
      o.pods = std::stoi(value());
    else if (a == "--clients")
      o.clients = std::stoi(value());
    else if (a == "--watchers")
      o.watchers = std::stoi(value());
    else if (a == "--backend")
      o.backend = value();
    else {
      std::fprintf(stderr,
                   "usage: apiserver [--pods N] [--clients C] [--watchers W] "
                   "[--backend sqlite|etcd|both]\n");
      return 2;
    }
  }
  std::vector<std::string> backends;
  if (o.backend == "sqlite" || o.backend == "both") backends.emplace_back("sqlite");
  if (o.backend == "etcd" || o.backend == "both") backends.emplace_back("etcd");
  std::vector<Result> results;
  for (const std::string& b : backends) {
    char tmpl[] = "/tmp/berth-bench-apiserver-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    berth::Result<Result> r = Run(o, b, tmpl);
    (void)berth::RemoveAll(tmpl);
    if (!r.ok()) {
      std::fprintf(stderr, "%s: %s\n", b.c_str(), r.error().str().c_str());
      return 1;
    }
    results.push_back(std::move(*r));
  }
  std::printf("%d pod creates from %d clients, %d watchers\n\n", o.pods, o.clients, o.watchers);
  std::printf("%-8s %9s %9s %9s %9s %11s %8s %16s\n", "backend", "p50 ms", "p99 ms", "mean ms",
              "max ms", "creates/s", "failed", "watchers (ms)");
  for (const Result& r : results) {
    double max =
        r.latency_ms.empty() ? 0 : *std::max_element(r.latency_ms.begin(), r.latency_ms.end());
    std::printf("%-8s %9.2f %9.2f %9.2f %9.2f %11.0f %8d %6d/%d %7.0f\n", r.backend.c_str(),
                Percentile(r.latency_ms, 0.5), Percentile(r.latency_ms, 0.99), Mean(r.latency_ms),
                max, static_cast<double>(r.latency_ms.size()) / r.seconds, r.failures,
                r.watchers_complete, o.watchers, r.last_watcher_ms);
  }
  if (results.size() == 2) {
    const Result& s = results[0];
    const Result& e = results[1];
    std::printf("\netcd/sqlite: p50 %.2f, p99 %.2f, throughput %.2f\n",
                Percentile(e.latency_ms, 0.5) / Percentile(s.latency_ms, 0.5),
                Percentile(e.latency_ms, 0.99) / Percentile(s.latency_ms, 0.99),
                (static_cast<double>(e.latency_ms.size()) / e.seconds) /
                    (static_cast<double>(s.latency_ms.size()) / s.seconds));
  }
  if (!results.empty() && results[0].backend == "sqlite") {
    double p99 = Percentile(results[0].latency_ms, 0.99);
    std::printf("sqlite p99 %.2f ms: %s (target < 50 ms)\n", p99, p99 < 50 ? "met" : "NOT met");
  }
  return 0;
}
