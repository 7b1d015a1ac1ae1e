#include "agent/pods/pod_status.h"

#include <algorithm>
#include <ctime>

#include "agent/pods/container_config.h"
#include "agent/pods/pod_spec.h"
#include "common/file.h"
#include "common/strings.h"
#include "common/time.h"
#include "controlplane/client/api_util.h"

namespace berth::agent {

using controlplane::client::StringAt;
using controlplane::client::ValueAt;

namespace {

constexpr size_t kMaxMessageBytes = 4096;
constexpr size_t kMaxLogMessageBytes = 2048;
constexpr size_t kMaxLogMessageLines = 80;

std::string Annotation(const v1::ContainerStatus& c, const std::string& key) {
  auto it = c.annotations().find(key);
  return it == c.annotations().end() ? "" : it->second;
}

bj::object TerminatedState(const v1::ContainerStatus& c, const StatusInputs& in,
                           const std::string& container_id) {
  std::string reason = c.reason();
  if (reason.empty()) reason = c.exit_code() == 0 ? "Completed" : "Error";
  bj::object t{{"exitCode", c.exit_code()},
               {"reason", reason},
               {"startedAt", c.started_at() > 0 ? bj::value(ApiTime(c.started_at())) : nullptr},
               {"finishedAt", c.finished_at() > 0 ? bj::value(ApiTime(c.finished_at())) : nullptr},
               {"containerID", container_id}};
  std::string policy = Annotation(c, kTerminationMessagePolicyAnnotation);
  std::string message = TerminationMessage(c, in.termination_messages_dir, policy);
  if (message.empty()) message = c.message();
  if (!message.empty()) t["message"] = message;
  return t;
}

struct Counted {
  int waiting = 0, running = 0, stopped = 0, succeeded = 0;
};

}  // namespace

std::string ApiTime(int64_t unix_nanos) {
  return FormatRfc3339(static_cast<time_t>(unix_nanos / 1'000'000'000));
}

std::string TerminationMessage(const v1::ContainerStatus& c, const std::string& messages_dir,
                               const std::string& policy) {
  std::string message;
  if (!messages_dir.empty()) {
    Result<std::string> text =
        ReadFile(messages_dir + "/" + c.metadata().name() + "/" + std::to_string(Attempt(c)));
    // The file's last 4 KiB, as upstream's tail.ReadAtMost.
    if (text.ok()) {
      message =
          text->size() > kMaxMessageBytes ? text->substr(text->size() - kMaxMessageBytes) : *text;
    }
  }
  if (!message.empty() || policy != "FallbackToLogsOnError" || c.exit_code() == 0 ||
      c.log_path().empty()) {
    return message;
  }
  Result<std::string> log = ReadFile(c.log_path());
  if (!log.ok()) return message;
  // CRI log lines: "<time> <stream> <F|P> <text>"; keep the text.
  // A partial (P) line continues in the next one.
  std::vector<std::string> lines;
  std::string partial;
  for (const std::string& line : SplitNonEmpty(*log, '\n')) {
    size_t a = line.find(' ');
    size_t b = a == std::string::npos ? a : line.find(' ', a + 1);
    size_t d = b == std::string::npos ? b : line.find(' ', b + 1);
    if (d == std::string::npos) continue;
    partial += line.substr(d + 1);
    if (line.compare(b + 1, 1, "P") == 0) continue;
    lines.push_back(std::move(partial));
    partial.clear();
  }
  if (!partial.empty()) lines.push_back(std::move(partial));
  size_t first = lines.size() > kMaxLogMessageLines ? lines.size() - kMaxLogMessageLines : 0;
  for (size_t i = first; i < lines.size(); ++i)
    message += lines[i] + "\n";
  if (message.size() > kMaxLogMessageBytes)
    message = message.substr(message.size() - kMaxLogMessageBytes);
  return message;
}

bj::object ComputePodStatus(const StatusInputs& in) {
  const bj::object& pod = *in.pod;
  const RuntimePod& rt = *in.runtime;
  bj::object status;
  const bj::value* old_status = pod.if_contains("status");
  const bj::object empty;
  const bj::object& old =
      old_status != nullptr && old_status->is_object() ? old_status->get_object() : empty;
  std::string now = FormatRfc3339(std::time(nullptr));

  // Upstream's default state: PodInitializing in a pod with init
  // containers (for all its containers), ContainerCreating otherwise.
  const char* default_waiting =
      InitContainers(pod).empty() ? "ContainerCreating" : "PodInitializing";
  auto container_status = [&](const bj::object& spec, bool init) {
    std::string name = StringAt(spec, {"name"});
    std::vector<const v1::ContainerStatus*> instances = rt.Instances(name);
    const v1::ContainerStatus* current = instances.empty() ? nullptr : instances.front();
    bj::object cs{{"name", name}, {"image", StringAt(spec, {"image"})}, {"imageID", ""}};
    cs["restartCount"] = current != nullptr ? static_cast<int64_t>(Attempt(*current)) : 0;
    bool running = false;
    if (current != nullptr) {
      std::string id = in.runtime_name + "://" + current->id();
      cs["containerID"] = id;
      cs["imageID"] = current->image_ref();
      if (current->state() == v1::CONTAINER_RUNNING) {
        running = true;
        cs["state"] =
            bj::object{{"running", bj::object{{"startedAt", ApiTime(current->started_at())}}}};
      } else if (current->state() == v1::CONTAINER_EXITED) {
        cs["state"] = bj::object{{"terminated", TerminatedState(*current, in, id)}};
      } else {
        cs["state"] = bj::object{{"waiting", bj::object{{"reason", "ContainerCreating"}}}};
      }
    }
    // A worker-set reason wins over an exited instance that will be
    // restarted (CrashLoopBackOff with the exit as lastState).
    if (auto w = in.waiting.find(name); w != in.waiting.end() && !running) {
      bj::object waiting{{"reason", w->second.reason}};
      if (!w->second.message.empty()) waiting["message"] = w->second.message;
      if (current != nullptr && current->state() == v1::CONTAINER_EXITED) {
        cs["lastState"] = cs["state"];
      }
      cs["state"] = bj::object{{"waiting", std::move(waiting)}};
    } else if (current == nullptr) {
      cs["state"] = bj::object{{"waiting", bj::object{{"reason", default_waiting}}}};
    }
    if (!cs.contains("lastState")) {
      const v1::ContainerStatus* previous = instances.size() > 1 ? instances[1] : nullptr;
      if (previous != nullptr && previous->state() == v1::CONTAINER_EXITED) {
        cs["lastState"] =
            bj::object{{"terminated",
                        TerminatedState(*previous, in, in.runtime_name + "://" + previous->id())}};
      } else {
        cs["lastState"] = bj::object{};
      }
    }
    std::optional<bool> started = in.started ? in.started(name) : std::nullopt;
    bool is_started = running && started.value_or(true);
    std::optional<bool> ready = in.ready ? in.ready(name) : std::nullopt;
    cs["started"] = is_started;
    bool sidecar = init && IsSidecar(spec);
    cs["ready"] = init && !sidecar
                      ? (current != nullptr && current->state() == v1::CONTAINER_EXITED &&
                         current->exit_code() == 0)
                      : is_started && ready.value_or(true);
    return cs;
  };

  // Init containers: how far initialization got (upstream getPhase).
  // Sidecars count as running or waiting like containers, but a stopped
  // one does not hold the phase.
  bj::array init_statuses;
  int init_pending = 0, init_failed = 0, sidecars_pending = 0;
  Counted n;
  std::vector<std::string> incomplete, unready;
  std::string restart_policy = RestartPolicy(pod);
  for (const bj::value& v : InitContainers(pod)) {
    if (!v.is_object()) continue;
    bj::object cs = container_status(v.get_object(), true);
    const bj::object& state = cs["state"].as_object();
    std::string name = StringAt(v.get_object(), {"name"});
    bool last_terminated = cs["lastState"].as_object().contains("terminated");
    if (IsSidecar(v.get_object())) {
      bool started = cs["started"].as_bool();
      if (state.contains("running")) {
        ++n.running;
        if (!started) ++sidecars_pending;
      } else if (state.contains("waiting") && !last_terminated) {
        ++sidecars_pending;
        ++n.waiting;
      }
      if (!started) incomplete.push_back(name);
      if (!cs["ready"].as_bool()) unready.push_back(name);
    } else {
      bool done = false;
      if (const bj::value* t = state.if_contains("terminated")) {
        done = t->as_object().at("exitCode").as_int64() == 0;
        if (!done) ++init_failed;
      } else if (state.contains("waiting") && last_terminated &&
                 cs["lastState"].at("terminated").at("exitCode").as_int64() != 0) {
        ++init_failed;
      }
      if (!done) {
        ++init_pending;
        incomplete.push_back(name);
      }
    }
    init_statuses.push_back(std::move(cs));
  }

  bj::array statuses;
  bool regular_started = false;
  for (const bj::value& v : Containers(pod)) {
    if (!v.is_object()) continue;
    bj::object cs = container_status(v.get_object(), false);
    const bj::object& state = cs["state"].as_object();
    if (state.contains("running") || state.contains("terminated")) regular_started = true;
    if (state.contains("running")) {
      ++n.running;
    } else if (const bj::value* t = state.if_contains("terminated")) {
      ++n.stopped;
      if (t->as_object().at("exitCode").as_int64() == 0) ++n.succeeded;
    } else if (cs["lastState"].as_object().contains("terminated")) {
      ++n.stopped;
      if (cs["lastState"].at("terminated").at("exitCode").as_int64() == 0) ++n.succeeded;
    } else {
      ++n.waiting;
    }
    if (!cs["ready"].as_bool()) unready.push_back(StringAt(v.get_object(), {"name"}));
    statuses.push_back(std::move(cs));
  }
  // Sidecars not up yet hold initialization only until a container ran.
  if (sidecars_pending > 0 && !regular_started) ++init_pending;

  std::string phase;
  if (!in.reason.empty() && rt.containers.empty()) {
    phase = "Failed";
  } else if (init_failed > 0 && restart_policy == "Never") {
    phase = "Failed";
  } else if (init_pending > 0 && !regular_started && !in.terminated) {
    phase = "Pending";
  } else if (n.waiting > 0 && !in.terminated) {
    phase = "Pending";
  } else if (n.running > 0 && !in.terminated) {
    phase = "Running";
  } else if (n.stopped > 0 || in.terminated) {
    if (in.terminated) {
      phase = n.stopped > 0 && n.stopped == n.succeeded && n.waiting == 0 ? "Succeeded" : "Failed";
    } else if (restart_policy == "Always") {
      phase = "Running";
    } else if (n.stopped == n.succeeded) {
      phase = "Succeeded";
    } else if (restart_policy == "Never") {
      phase = "Failed";
    } else {
      phase = "Running";
    }
  } else {
    phase = "Pending";
  }
  // Once terminal, always terminal: a restart cannot take a pod back.
  std::string old_phase = StringAt(old, {"phase"});
  if (IsTerminalPhase(old_phase)) phase = old_phase;
  status["phase"] = phase;

  // Conditions: ours, with transition times kept while the value holds.
  auto condition = [&](const std::string& type, bool value, const std::string& reason,
                       const std::string& message) {
    std::string value_text = value ? "True" : "False";
    std::string since = now;
    if (const bj::value* list = old.if_contains("conditions");
        list != nullptr && list->is_array()) {
      for (const bj::value& c : list->get_array()) {
        if (c.is_object() && StringAt(c.get_object(), {"type"}) == type &&
            StringAt(c.get_object(), {"status"}) == value_text) {
          std::string t = StringAt(c.get_object(), {"lastTransitionTime"});
          if (!t.empty()) since = t;
        }
      }
    }
    bj::object c{{"type", type},
                 {"status", value_text},
                 {"lastProbeTime", nullptr},
                 {"lastTransitionTime", since}};
    if (!reason.empty()) c["reason"] = reason;
    if (!message.empty()) c["message"] = message;
    return c;
  };
  bool terminal = IsTerminalPhase(phase);
  std::string terminal_reason = phase == "Succeeded" ? "PodCompleted" : "PodFailed";
  bj::array conditions;
  conditions.push_back(
      condition("PodReadyToStartContainers", rt.SandboxReady() && !terminal, "", ""));
  // Initialized (upstream GeneratePodInitializedCondition).
  if (phase == "Succeeded") {
    conditions.push_back(condition("Initialized", true, "PodCompleted", ""));
  } else if (regular_started || incomplete.empty()) {
    conditions.push_back(condition("Initialized", true, "", ""));
  } else {
    conditions.push_back(
        condition("Initialized", false, "ContainersNotInitialized",
                  "containers with incomplete status: [" + Join(incomplete, " ") + "]"));
  }
  bool containers_ready = unready.empty() && !terminal;
  std::string unready_reason = terminal ? terminal_reason : "ContainersNotReady";
  std::string unready_message =
      terminal ? "" : "containers with unready status: [" + Join(unready, " ") + "]";
  conditions.push_back(condition("ContainersReady", containers_ready,
                                 containers_ready ? "" : unready_reason,
                                 containers_ready ? "" : unready_message));
  // Readiness gates: conditions others set on the pod must be True too.
  std::vector<std::string> gate_messages;
  if (const bj::value* gates = ValueAt(pod, {"spec", "readinessGates"});
      gates != nullptr && gates->is_array()) {
    for (const bj::value& g : gates->get_array()) {
      std::string type = g.is_object() ? StringAt(g.get_object(), {"conditionType"}) : "";
      std::optional<std::string> value;
      if (const bj::value* list = old.if_contains("conditions");
          list != nullptr && list->is_array()) {
        for (const bj::value& c : list->get_array()) {
          if (c.is_object() && StringAt(c.get_object(), {"type"}) == type)
            value = StringAt(c.get_object(), {"status"});
        }
      }
      if (!value) {
        gate_messages.push_back("corresponding condition of pod readiness gate \"" + type +
                                "\" does not exist.");
      } else if (*value != "True") {
        gate_messages.push_back("the status of pod readiness gate \"" + type +
                                "\" is not \"True\", but " + *value);
      }
    }
  }
  bool ready = containers_ready && gate_messages.empty();
  std::string ready_reason = !containers_ready ? unready_reason : "ReadinessGatesNotReady";
  std::string ready_message = !containers_ready ? unready_message : Join(gate_messages, ", ");
  conditions.push_back(
      condition("Ready", ready, ready ? "" : ready_reason, ready ? "" : ready_message));
  // A pod the agent runs is scheduled, whoever bound it (nodeName set by
  // hand, static pods): the kubelet adds the condition when it is missing.
  bool has_scheduled = false;
  if (const bj::value* list = old.if_contains("conditions"); list != nullptr && list->is_array()) {
    for (const bj::value& c : list->get_array())
      has_scheduled |= c.is_object() && StringAt(c.get_object(), {"type"}) == "PodScheduled";
  }
  if (!has_scheduled) conditions.push_back(condition("PodScheduled", true, "", ""));
  // Conditions others own (PodScheduled, DisruptionTarget, gates) stay.
  if (const bj::value* list = old.if_contains("conditions"); list != nullptr && list->is_array()) {
    for (const bj::value& c : list->get_array()) {
      std::string type = c.is_object() ? StringAt(c.get_object(), {"type"}) : "";
      if (type != "PodReadyToStartContainers" && type != "Initialized" &&
          type != "ContainersReady" && type != "Ready") {
        conditions.push_back(c);
      }
    }
  }
  status["conditions"] = std::move(conditions);

  if (!in.host_ips.empty()) {
    status["hostIP"] = in.host_ips.front();
    bj::array ips;
    for (const std::string& ip : in.host_ips)
      ips.push_back(bj::object{{"ip", ip}});
    status["hostIPs"] = std::move(ips);
  }
  std::vector<std::string> pod_ips = HostNetwork(pod) ? in.host_ips : rt.PodIps();
  if (pod_ips.empty()) {
    // Keep the address a pod had once its sandbox is gone (terminal pods).
    if (const bj::value* ip = old.if_contains("podIP")) status["podIP"] = *ip;
    if (const bj::value* ips = old.if_contains("podIPs")) status["podIPs"] = *ips;
  } else {
    status["podIP"] = pod_ips.front();
    bj::array ips;
    for (const std::string& ip : pod_ips)
      ips.push_back(bj::object{{"ip", ip}});
    status["podIPs"] = std::move(ips);
  }
  std::string start = StringAt(old, {"startTime"});
  status["startTime"] = start.empty() ? now : start;
  status["qosClass"] = QosClass(pod);
  if (!init_statuses.empty()) status["initContainerStatuses"] = std::move(init_statuses);
  status["containerStatuses"] = std::move(statuses);
  if (!in.reason.empty()) {
    status["reason"] = in.reason;
    status["message"] = in.message;
  } else if (const bj::value* nominated = old.if_contains("nominatedNodeName")) {
    status["nominatedNodeName"] = *nominated;
  }
  return status;
}

}  // namespace berth::agent
