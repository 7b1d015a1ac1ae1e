#include <pwd.h>
#include <sys/stat.h>

#include <boost/json.hpp>

#include "cmd/flags.h"
#include "cmd/runtime/cli.h"
#include "common/file.h"

namespace berth::cli::runtime {
namespace {

// Columns padded as Go's text/tabwriter(minwidth 12, padding 3) lays them
// out, the last column unpadded.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(12);
      width[i] = std::max(width[i], row[i].size() + 3);
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(width[i] - row[i].size(), ' ');
    }
    out += '\n';
  }
  return out;
}

std::string Owner(const std::string& root, const std::string& id) {
  struct stat st {};
  if (::stat(PathJoin(root, id).c_str(), &st) != 0) return "";
  if (passwd* pw = ::getpwuid(st.st_uid)) return pw->pw_name;
  return "#" + std::to_string(st.st_uid);
}

}  // namespace

int List(Context& ctx, const Args& args) {
  std::string format = "table";
  bool quiet = false;
  FlagSet flags("list");
  flags.String("format,f", &format, "select one of: table or json (default: \"table\")");
  flags.Bool("quiet,q", &quiet, "display only container IDs");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) return Fail(ctx, pos.error());
  Result<std::vector<oci::ContainerInfo>> all = oci::ListContainers(ctx.rt);
  if (!all.ok()) return Fail(ctx, all.error());
  if (quiet) {
    for (const auto& c : *all)
      Print(c.state.id + "\n");
    return 0;
  }
  if (format == "json") {
    if (all->empty()) {
      Print("null\n");  // Go marshals a nil slice as null
      return 0;
    }
    boost::json::array out;
    for (const auto& c : *all) {
      out.push_back(boost::json::parse(
          oci::RuncStateJson(c.state, c.status, Owner(ctx.rt.root, c.state.id), false)));
    }
    Print(boost::json::serialize(out) + "\n");
    return 0;
  }
  if (format != "table") return Fail(ctx, "invalid format option");
  std::vector<std::vector<std::string>> rows = {
      {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (const auto& c : *all) {
    pid_t pid = c.status == oci::ContainerStatus::kStopped ? 0 : c.state.pid;
    rows.push_back({c.state.id, std::to_string(pid), oci::StatusName(c.status), c.state.bundle,
                    c.state.created, Owner(ctx.rt.root, c.state.id)});
  }
  Print(Table(rows));
  return 0;
}

}  // namespace berth::cli::runtime
