// `berth agent`: the kubelet-compatible node agent (agent/), against any
// apiserver, over berth's own runtime in this process or any CRI socket.

#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cmd/agent_flags.h"
#include "cmd/malloc_arenas.h"
#include "cmd/signals_wait.h"
#include "common/log.h"

namespace berth::cli {

int RunAgent(const std::vector<std::string>& args) {
  agent::AgentOptions o;
  o.runtime.listen = "unix:///run/berth/cri.sock";
  AgentFlags values;
  FlagSet flags("agent");
  AddAgentFlags(flags, o, values, false);
  Result<std::vector<std::string>> rest = flags.Parse(args);
  if (!rest.ok()) {
    std::fprintf(stderr, "berth agent: %s\n%s", rest.error().str().c_str(), flags.Usage().c_str());
    return 2;
  }
  if (!rest->empty()) {
    std::fprintf(stderr, "berth agent: unexpected argument \"%s\"\n", rest->front().c_str());
    return 2;
  }
  log::Configure({log::Level::kInfo, log::Format::kText, 2, false});
  if (Status s = FinishAgentOptions(o, values); !s.ok()) {
    std::fprintf(stderr, "berth agent: %s\n", s.error().str().c_str());
    return 2;
  }
  if (o.kubeconfig.empty()) {
    std::fprintf(stderr, "berth agent: --kubeconfig is required\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  LimitMallocArenas();
  StopSignals stop;
  Result<std::unique_ptr<agent::Kubelet>> kubelet = agent::Kubelet::Start(o);
  if (!kubelet.ok()) {
    std::fprintf(stderr, "berth agent: %s\n", kubelet.error().str().c_str());
    return 1;
  }
  int signal = stop.Wait();
  BLOG(kInfo) << "berth agent: signal " << signal << ", stopping (pods keep running)";
  (*kubelet)->Stop();
  return 0;
}

}  // namespace berth::cli
