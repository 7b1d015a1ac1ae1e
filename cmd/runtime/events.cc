// `events`: resource usage as runc's event stream: {"type":"stats",...}
// every --interval (once with --stats), and {"type":"oom",...} when the
// kernel OOM-kills in the container. Ends when the container stops.

#include <unistd.h>

#include "cmd/flags.h"
#include "cmd/runtime/cli.h"
#include "common/strings.h"

namespace berth::cli::runtime {
namespace {

// Go's time.ParseDuration for the units people use: "5s", "250ms", "1m", "1.5s".
Result<int64_t> ParseDurationMs(const std::string& raw) {
  static const std::pair<const char*, double> kUnits[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
  for (const auto& [suffix, ms] : kUnits) {
    std::string_view s = raw;
    if (!s.ends_with(suffix)) continue;
    std::string number(s.substr(0, s.size() - std::strlen(suffix)));
    char* end = nullptr;
    double v = std::strtod(number.c_str(), &end);
    if (!number.empty() && end == number.c_str() + number.size() && v > 0) {
      return static_cast<int64_t>(v * ms);
    }
  }
  return Error(Errc::kInvalidArgument, "--interval: invalid duration \"" + raw + "\"");
}

std::string Event(const char* type, const std::string& id, const std::string& data) {
  std::string out = std::string("{\"type\":\"") + type + "\",\"id\":" + JsonQuote(id);
  if (!data.empty()) out += ",\"data\":" + data;
  return out + "}\n";
}

}  // namespace

int Events(Context& ctx, const Args& args) {
  std::string interval = "5s";
  bool stats_only = false;
  FlagSet flags("events");
  flags.String("interval", &interval, "set the stats collection interval (default: 5s)");
  flags.Bool("stats", &stats_only, "display the container's stats then exit");
  Result<std::string> parsed = ParseContainerId(flags, args, "events", "[options] <container-id>");
  if (!parsed.ok()) return Fail(ctx, parsed.error());
  Result<int64_t> period = ParseDurationMs(interval);
  if (!period.ok()) return Fail(ctx, period.error());
  const std::string& id = *parsed;
  uint64_t ooms_seen = 0;
  bool first = true;
  while (true) {
    Result<cgroups::Stats> stats = oci::ContainerStats(ctx.rt, id);
    if (!stats.ok()) {
      if (first || stats.error().code() != Errc::kNotFound) return Fail(ctx, stats.error());
      // The container stopped; an OOM kill of its init is why, often.
      Result<uint64_t> ooms = oci::ContainerOomKills(ctx.rt, id);
      if (ooms.ok() && *ooms > ooms_seen) Print(Event("oom", id, ""));
      return 0;
    }
    if (!first && stats->oom_kill > ooms_seen) Print(Event("oom", id, ""));
    ooms_seen = stats->oom_kill;
    Print(Event("stats", id, cgroups::StatsToRuncJson(*stats)));
    if (stats_only) return 0;
    first = false;
    ::usleep(static_cast<useconds_t>(*period * 1000));
  }
}

}  // namespace berth::cli::runtime
