// config.json -> Spec. Type errors name the field; semantic rules live in
// spec_validate.cc.

#include "common/strings.h"
#include "runtime/oci/spec.h"

namespace berth::runtime::oci {
namespace {

using json::Field;

Result<std::vector<ns::IdMapping>> ParseIdMappings(const Field& field) {
  std::vector<ns::IdMapping> out;
  for (const Field& item : BERTH_TRY(field.Items())) {
    ns::IdMapping m;
    m.container_id = BERTH_TRY(item["containerID"].Int<uint32_t>());
    m.host_id = BERTH_TRY(item["hostID"].Int<uint32_t>());
    m.size = BERTH_TRY(item["size"].Int<uint32_t>());
    out.push_back(m);
  }
  return out;
}

Result<Mount> ParseMount(const Field& field) {
  BERTH_TRY(field.ExpectObject());
  Mount m;
  m.destination = BERTH_TRY(field["destination"].String());
  m.type = BERTH_TRY(field["type"].OptString()).value_or("");
  m.source = BERTH_TRY(field["source"].OptString()).value_or("");
  m.options = BERTH_TRY(field["options"].StringArray());
  m.uid_mappings = BERTH_TRY(ParseIdMappings(field["uidMappings"]));
  m.gid_mappings = BERTH_TRY(ParseIdMappings(field["gidMappings"]));
  if (m.destination.empty()) return field["destination"].Invalid("must not be empty");
  return m;
}

Result<User> ParseUser(const Field& field) {
  User u;
  u.uid = BERTH_TRY(field["uid"].OptInt<uint32_t>()).value_or(0);
  u.gid = BERTH_TRY(field["gid"].OptInt<uint32_t>()).value_or(0);
  u.umask = BERTH_TRY(field["umask"].OptInt<uint32_t>());
  for (const Field& g : BERTH_TRY(field["additionalGids"].Items())) {
    u.additional_gids.push_back(BERTH_TRY(g.Int<uint32_t>()));
  }
  u.username = BERTH_TRY(field["username"].OptString()).value_or("");
  return u;
}

Result<Hook> ParseHook(const Field& field) {
  Hook h;
  h.path = BERTH_TRY(field["path"].String());
  h.args = BERTH_TRY(field["args"].StringArray());
  h.env = BERTH_TRY(field["env"].StringArray());
  h.timeout = BERTH_TRY(field["timeout"].OptInt<int>());
  if (h.timeout && *h.timeout <= 0) return field["timeout"].Invalid("must be positive");
  if (h.path.empty() || h.path[0] != '/') return field["path"].Invalid("must be an absolute path");
  return h;
}

Result<std::vector<Hook>> ParseHookList(const Field& field) {
  return field.MapItems(ParseHook);
}

Result<Hooks> ParseHooks(const Field& field) {
  BERTH_TRY(field.ExpectObject());
  Hooks h;
  h.prestart = BERTH_TRY(ParseHookList(field["prestart"]));
  h.create_runtime = BERTH_TRY(ParseHookList(field["createRuntime"]));
  h.create_container = BERTH_TRY(ParseHookList(field["createContainer"]));
  h.start_container = BERTH_TRY(ParseHookList(field["startContainer"]));
  h.poststart = BERTH_TRY(ParseHookList(field["poststart"]));
  h.poststop = BERTH_TRY(ParseHookList(field["poststop"]));
  return h;
}

Result<std::vector<Namespace>> ParseNamespaces(const Field& field) {
  std::vector<Namespace> out;
  for (const Field& item : BERTH_TRY(field.Items())) {
    std::string type = BERTH_TRY(item["type"].String());
    std::optional<ns::Kind> kind = ns::FromOciName(type);
    if (!kind) return item["type"].Invalid("unknown namespace type \"" + type + "\"");
    for (const Namespace& seen : out) {
      if (seen.kind == *kind)
        return item["type"].Invalid("duplicate namespace type \"" + type + "\"");
    }
    std::string path = BERTH_TRY(item["path"].OptString()).value_or("");
    out.push_back({*kind, path});
  }
  return out;
}

Result<Device> ParseDevice(const Field& field) {
  Device d;
  d.path = BERTH_TRY(field["path"].String());
  std::string type = BERTH_TRY(field["type"].String());
  if (type.size() != 1 || std::string_view("cubp").find(type[0]) == std::string_view::npos) {
    return field["type"].Invalid("unknown device type \"" + type + "\" (want c, u, b or p)");
  }
  d.type = type[0];
  if (d.type != 'p') {
    d.major = BERTH_TRY(field["major"].Int<int64_t>());
    d.minor = BERTH_TRY(field["minor"].Int<int64_t>());
  }
  d.file_mode = BERTH_TRY(field["fileMode"].OptInt<uint32_t>());
  d.uid = BERTH_TRY(field["uid"].OptInt<uint32_t>());
  d.gid = BERTH_TRY(field["gid"].OptInt<uint32_t>());
  if (d.path.empty() || d.path[0] != '/') return field["path"].Invalid("must be an absolute path");
  return d;
}

Result<LinuxConfig> ParseLinux(const Field& field) {
  BERTH_TRY(field.ExpectObject());
  LinuxConfig l;
  l.namespaces = BERTH_TRY(ParseNamespaces(field["namespaces"]));
  l.uid_mappings = BERTH_TRY(ParseIdMappings(field["uidMappings"]));
  l.gid_mappings = BERTH_TRY(ParseIdMappings(field["gidMappings"]));
  l.sysctl = BERTH_TRY(field["sysctl"].StringMap());
  if (field["resources"].present()) {
    l.resources = BERTH_TRY(cgroups::ParseResources(field["resources"]));
    l.has_resources = true;
  }
  l.cgroups_path = BERTH_TRY(field["cgroupsPath"].OptString()).value_or("");
  l.devices = BERTH_TRY(field["devices"].MapItems(ParseDevice));
  if (field["seccomp"].present()) l.seccomp = BERTH_TRY(security::ParseSeccomp(field["seccomp"]));
  l.rootfs_propagation = BERTH_TRY(field["rootfsPropagation"].OptString()).value_or("");
  l.masked_paths = BERTH_TRY(field["maskedPaths"].StringArray());
  l.readonly_paths = BERTH_TRY(field["readonlyPaths"].StringArray());
  l.mount_label = BERTH_TRY(field["mountLabel"].OptString()).value_or("");
  // Features berth does not implement: refuse by name rather than run a
  // container without what the spec asked for.
  for (const char* unsupported :
       {"intelRdt", "personality", "timeOffsets", "memoryPolicy", "netDevices"}) {
    if (field[unsupported].present()) {
      return field[unsupported].Invalid("not supported by berth");
    }
  }
  return l;
}

}  // namespace

Result<Process> ParseProcess(const json::Field& field) {
  BERTH_TRY(field.ExpectObject());
  Process p;
  p.terminal = BERTH_TRY(field["terminal"].Bool());
  if (field["consoleSize"].present()) {
    ConsoleSize size;
    size.height = BERTH_TRY(field["consoleSize"]["height"].Int<uint32_t>());
    size.width = BERTH_TRY(field["consoleSize"]["width"].Int<uint32_t>());
    p.console_size = size;
  }
  BERTH_TRY(field["user"].ExpectObject());
  p.user = BERTH_TRY(ParseUser(field["user"]));
  p.args = BERTH_TRY(field["args"].StringArray());
  if (field["commandLine"].present()) return field["commandLine"].Invalid("is Windows-only");
  p.env = BERTH_TRY(field["env"].StringArray());
  p.cwd = BERTH_TRY(field["cwd"].OptString()).value_or("");
  p.capabilities = BERTH_TRY(security::ParseCapabilities(field["capabilities"]));
  p.rlimits = BERTH_TRY(security::ParseRlimits(field["rlimits"]));
  p.no_new_privileges = BERTH_TRY(field["noNewPrivileges"].Bool());
  p.oom_score_adj = BERTH_TRY(field["oomScoreAdj"].OptInt<int>());
  p.apparmor_profile = BERTH_TRY(field["apparmorProfile"].OptString()).value_or("");
  p.selinux_label = BERTH_TRY(field["selinuxLabel"].OptString()).value_or("");
  for (const char* unsupported : {"ioPriority", "scheduler", "execCPUAffinity"}) {
    if (field[unsupported].present()) return field[unsupported].Invalid("not supported by berth");
  }
  return p;
}

Result<Spec> ParseSpec(std::string_view text, std::string_view what) {
  json::bj::value doc = BERTH_TRY(json::Parse(text, what));
  Field root(&doc, "");
  if (!doc.is_object())
    return Error(Errc::kInvalidArgument, std::string(what) + ": expected a JSON object");
  auto parse = [&]() -> Result<Spec> {
    Spec s;
    s.oci_version = BERTH_TRY(root["ociVersion"].String());
    BERTH_TRY(root["root"].ExpectObject());
    s.root_path = BERTH_TRY(root["root"]["path"].OptString()).value_or("");
    s.root_readonly = BERTH_TRY(root["root"]["readonly"].Bool());
    if (root["process"].present()) s.process = BERTH_TRY(ParseProcess(root["process"]));
    s.hostname = BERTH_TRY(root["hostname"].OptString()).value_or("");
    s.domainname = BERTH_TRY(root["domainname"].OptString()).value_or("");
    s.mounts = BERTH_TRY(root["mounts"].MapItems(ParseMount));
    s.hooks = BERTH_TRY(ParseHooks(root["hooks"]));
    s.annotations = BERTH_TRY(root["annotations"].StringMap());
    s.linux_config = BERTH_TRY(ParseLinux(root["linux"]));
    return s;
  };
  Result<Spec> spec = parse();
  if (!spec.ok()) return std::move(spec).error().Wrap(std::string(what));
  return spec;
}

const Namespace* LinuxConfig::Find(ns::Kind kind) const {
  for (const Namespace& n : namespaces) {
    if (n.kind == kind) return &n;
  }
  return nullptr;
}

bool LinuxConfig::CreatesNew(ns::Kind kind) const {
  const Namespace* n = Find(kind);
  return n != nullptr && n->path.empty();
}

}  // namespace berth::runtime::oci
