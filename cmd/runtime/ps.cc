// `ps`: the container's processes, as a JSON array of pids or as the rows
// of ps(1) (default "-ef", or the arguments after the id) whose PID belongs
// to the container.

#include <algorithm>

#include "cmd/flags.h"
#include "cmd/runtime/cli.h"
#include "common/process.h"
#include "common/strings.h"

namespace berth::cli::runtime {

int Ps(Context& ctx, const Args& args) {
  std::string format = "table";
  FlagSet flags("ps");
  flags.String("format,f", &format, "select one of: table or json (default: \"table\")");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) return Fail(ctx, pos.error());
  if (pos->empty())
    return Fail(ctx,
                Error(Errc::kInvalidArgument, "usage: berth-runc ps <container-id> [ps options]"));
  Result<std::vector<pid_t>> pids = oci::ContainerPids(ctx.rt, pos->front());
  if (!pids.ok()) return Fail(ctx, pids.error());
  std::sort(pids->begin(), pids->end());
  if (format == "json") {
    std::string out = "[";
    for (size_t i = 0; i < pids->size(); ++i)
      out += (i ? "," : "") + std::to_string((*pids)[i]);
    Print(out + "]\n");
    return 0;
  }
  if (format != "table") return Fail(ctx, "invalid format option");
  Command cmd;
  cmd.argv = {"ps"};
  if (pos->size() > 1) {
    cmd.argv.insert(cmd.argv.end(), pos->begin() + 1, pos->end());
  } else {
    cmd.argv.emplace_back("-ef");
  }
  Result<CommandResult> r = RunCommand(cmd);
  if (!r.ok()) return Fail(ctx, r.error());
  if (!r->success()) return Fail(ctx, "ps: " + r->Describe() + ": " + r->err);
  std::vector<std::string> lines = Split(r->out, '\n');
  std::vector<std::string> header = SplitNonEmpty(lines.front(), ' ');
  auto column = std::find(header.begin(), header.end(), "PID");
  if (column == header.end()) return Fail(ctx, "couldn't find PID field in ps output");
  size_t index = static_cast<size_t>(column - header.begin());
  std::string out = lines.front() + "\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> fields = SplitNonEmpty(lines[i], ' ');
    if (fields.size() <= index) continue;
    Result<pid_t> pid = ParseInt<pid_t>(fields[index], "pid");
    if (pid.ok() && std::binary_search(pids->begin(), pids->end(), *pid)) out += lines[i] + "\n";
  }
  Print(out);
  return 0;
}

}  // namespace berth::cli::runtime
