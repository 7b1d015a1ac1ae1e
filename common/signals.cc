#include "common/signals.h"

#include <signal.h>

#include <cstring>

#include "common/strings.h"

namespace berth {
namespace {

struct SignalName {
  const char* name;
  int number;
};

constexpr SignalName kSignals[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},       {"CHLD", SIGCHLD},
    {"CLD", SIGCHLD},  {"CONT", SIGCONT}, {"FPE", SIGFPE},       {"HUP", SIGHUP},
    {"ILL", SIGILL},   {"INT", SIGINT},   {"IO", SIGIO},         {"IOT", SIGIOT},
    {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},     {"PROF", SIGPROF},
    {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT},
    {"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

}  // namespace

Result<int> ParseSignal(const std::string& raw) {
  Result<int> number = ParseInt<int>(raw, "signal");
  if (number.ok()) {
    if (*number <= 0 || *number > SIGRTMAX)
      return Error(Errc::kInvalidArgument, "invalid signal: " + raw);
    return *number;
  }
  std::string name = raw;
  for (char& c : name)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name.starts_with("SIG")) name = name.substr(3);
  for (const SignalName& s : kSignals) {
    if (name == s.name) return s.number;
  }
  for (const char* base : {"RTMIN", "RTMAX"}) {
    if (!name.starts_with(base)) continue;
    int offset = 0;
    std::string rest = name.substr(std::strlen(base));
    if (rest.starts_with("+")) rest.erase(0, 1);
    if (!rest.empty()) {
      Result<int> n = ParseInt<int>(rest, "signal offset");
      if (!n.ok()) break;
      offset = *n;
    }
    int sig = (std::strcmp(base, "RTMIN") == 0 ? SIGRTMIN : SIGRTMAX) + offset;
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) return sig;
  }
  return Error(Errc::kInvalidArgument, "unknown signal \"" + raw + "\"");
}

}  // namespace berth
