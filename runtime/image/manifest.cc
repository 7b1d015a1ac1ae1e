#include "runtime/image/manifest.h"

#include <sys/utsname.h>

#include <algorithm>

#include "common/strings.h"

namespace berth::image {

namespace media {

bool IsIndex(std::string_view t) {
  return t == kOciIndex || t == kDockerManifestList;
}
bool IsManifest(std::string_view t) {
  return t == kOciManifest || t == kDockerManifest;
}
bool IsLayer(std::string_view t) {
  return t == kOciLayer || t == kOciLayerGzip || t == kOciLayerZstd || t == kOciLayerNondistGzip ||
         t == kDockerLayer || t == kDockerLayerGzip || t == kDockerForeignLayerGzip ||
         t == "application/vnd.oci.image.layer.nondistributable.v1.tar" ||
         t == "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
}

}  // namespace media

namespace {

using json::Field;

Result<std::map<std::string, std::string>> StringMapField(const Field& f) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : BERTH_TRY(f.StringMap()))
    out[k] = v;
  return out;
}

// Wraps a parse of `text` so every error starts with `what`.
template <class T, class Body>
Result<T> ParseDocument(std::string_view text, std::string_view what, Body body) {
  Result<json::bj::value> doc = json::Parse(text, what);
  if (!doc.ok()) return std::move(doc).error();
  Field root(&*doc, "");
  if (!root.raw()->is_object())
    return Error(Errc::kInvalidArgument, std::string(what) + ": not a JSON object");
  Result<T> out = body(root);
  if (!out.ok()) return std::move(out).error().Wrap(std::string(what));
  return out;
}

Result<Platform> PlatformField(const Field& f) {
  BERTH_TRY(f.ExpectObject());
  Platform p;
  p.architecture = BERTH_TRY(f["architecture"].OptString()).value_or("");
  p.os = BERTH_TRY(f["os"].OptString()).value_or("");
  p.variant = BERTH_TRY(f["variant"].OptString()).value_or("");
  p.os_version = BERTH_TRY(f["os.version"].OptString()).value_or("");
  p.os_features = BERTH_TRY(f["os.features"].StringArray());
  return p;
}

// Docker's ExposedPorts / Volumes are objects whose keys are the values.
Result<std::vector<std::string>> KeysOf(const Field& f) {
  std::vector<std::string> out;
  for (auto& [k, v] : BERTH_TRY(f.Members()))
    out.push_back(k);
  return out;
}

}  // namespace

std::string Platform::String() const {
  std::string out = os + "/" + architecture;
  if (!variant.empty()) out += "/" + variant;
  return out;
}

Result<Platform> ParsePlatform(std::string_view text, std::string_view what) {
  std::vector<std::string> parts = Split(text, '/');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty()) {
    return Error(Errc::kInvalidArgument, std::string(what) + ": \"" + std::string(text) +
                                             "\" is not <os>/<architecture>[/<variant>]");
  }
  Platform p;
  p.os = parts[0];
  p.architecture = parts[1];
  if (parts.size() == 3) p.variant = parts[2];
  if (p.architecture == "aarch64") p.architecture = "arm64";
  if (p.architecture == "x86_64" || p.architecture == "x86-64") p.architecture = "amd64";
  return p;
}

Platform HostPlatform() {
  Platform p;
  p.os = "linux";
  utsname u{};
  ::uname(&u);
  std::string_view machine = u.machine;
  if (machine == "x86_64") {
    p.architecture = "amd64";
  } else if (machine == "aarch64") {
    p.architecture = "arm64";
    p.variant = "v8";
  } else if (machine.rfind("armv7", 0) == 0) {
    p.architecture = "arm";
    p.variant = "v7";
  } else if (machine == "i686" || machine == "i386") {
    p.architecture = "386";
  } else {
    p.architecture = std::string(machine);
  }
  return p;
}

bool PlatformMatches(const Platform& want, const Platform& have) {
  if (want.os != have.os || want.architecture != have.architecture) return false;
  if (want.variant == have.variant) return true;
  if (want.architecture == "arm64") {
    // arm64 without a variant is v8.
    auto norm = [](const std::string& v) { return v.empty() ? std::string("v8") : v; };
    return norm(want.variant) == norm(have.variant);
  }
  if (want.architecture == "arm" && !want.variant.empty() && !have.variant.empty()) {
    // A v7 host runs v6 and v5 images.
    return have.variant <= want.variant;
  }
  return want.variant.empty() || have.variant.empty();
}

Result<Descriptor> ParseDescriptor(const Field& f) {
  BERTH_TRY(f.ExpectObject());
  Descriptor d;
  d.media_type = BERTH_TRY(f["mediaType"].String());
  d.digest = BERTH_TRY(Digest::Parse(BERTH_TRY(f["digest"].String()), f["digest"].path()));
  d.size = BERTH_TRY(f["size"].Int<int64_t>());
  if (d.size < 0) return f["size"].Invalid("must not be negative");
  d.urls = BERTH_TRY(f["urls"].StringArray());
  d.annotations = BERTH_TRY(StringMapField(f["annotations"]));
  if (f["platform"].present()) d.platform = BERTH_TRY(PlatformField(f["platform"]));
  return d;
}

Result<Index> ParseIndex(std::string_view text, std::string_view what) {
  return ParseDocument<Index>(text, what, [](const Field& root) -> Result<Index> {
    Index idx;
    idx.schema_version = BERTH_TRY(root["schemaVersion"].Int<int>());
    if (idx.schema_version != 2) return root["schemaVersion"].Invalid("must be 2");
    idx.media_type = BERTH_TRY(root["mediaType"].OptString()).value_or("");
    idx.manifests = BERTH_TRY(root["manifests"].MapItems(ParseDescriptor));
    idx.annotations = BERTH_TRY(StringMapField(root["annotations"]));
    return idx;
  });
}

Result<Manifest> ParseManifest(std::string_view text, std::string_view what) {
  return ParseDocument<Manifest>(text, what, [](const Field& root) -> Result<Manifest> {
    Manifest m;
    m.schema_version = BERTH_TRY(root["schemaVersion"].Int<int>());
    if (m.schema_version != 2) {
      return root["schemaVersion"].Invalid("must be 2 (Docker schema 1 images are not supported)");
    }
    m.media_type = BERTH_TRY(root["mediaType"].OptString()).value_or("");
    if (!root["config"].present()) return root["config"].Invalid("required field missing");
    m.config = BERTH_TRY(ParseDescriptor(root["config"]));
    m.layers = BERTH_TRY(root["layers"].MapItems(ParseDescriptor));
    for (size_t i = 0; i < m.layers.size(); ++i) {
      if (!media::IsLayer(m.layers[i].media_type)) {
        return root["layers"].Invalid("[" + std::to_string(i) +
                                      "]: unsupported layer media type \"" +
                                      m.layers[i].media_type + "\"");
      }
    }
    m.annotations = BERTH_TRY(StringMapField(root["annotations"]));
    return m;
  });
}

Result<ImageConfig> ParseImageConfig(std::string_view text, std::string_view what) {
  return ParseDocument<ImageConfig>(text, what, [](const Field& root) -> Result<ImageConfig> {
    ImageConfig c;
    c.platform = BERTH_TRY(PlatformField(root));
    c.created = BERTH_TRY(root["created"].OptString()).value_or("");
    Field conf = root["config"];
    BERTH_TRY(conf.ExpectObject());
    c.user = BERTH_TRY(conf["User"].OptString()).value_or("");
    c.env = BERTH_TRY(conf["Env"].StringArray());
    c.entrypoint_set = conf["Entrypoint"].present();
    c.entrypoint = BERTH_TRY(conf["Entrypoint"].StringArray());
    c.cmd_set = conf["Cmd"].present();
    c.cmd = BERTH_TRY(conf["Cmd"].StringArray());
    c.working_dir = BERTH_TRY(conf["WorkingDir"].OptString()).value_or("");
    c.exposed_ports = BERTH_TRY(KeysOf(conf["ExposedPorts"]));
    c.volumes = BERTH_TRY(KeysOf(conf["Volumes"]));
    c.labels = BERTH_TRY(StringMapField(conf["Labels"]));
    c.stop_signal = BERTH_TRY(conf["StopSignal"].OptString()).value_or("");
    Field rootfs = root["rootfs"];
    if (!rootfs.present()) return rootfs.Invalid("required field missing");
    std::string type = BERTH_TRY(rootfs["type"].String());
    if (type != "layers") return rootfs["type"].Invalid("must be \"layers\"");
    c.diff_ids = BERTH_TRY(rootfs["diff_ids"].MapItems([](const Field& f) -> Result<Digest> {
      return Digest::Parse(BERTH_TRY(f.String()), f.path());
    }));
    return c;
  });
}

Result<std::string> DetectMediaType(std::string_view text, std::string_view what) {
  return ParseDocument<std::string>(text, what, [](const Field& root) -> Result<std::string> {
    std::string t = BERTH_TRY(root["mediaType"].OptString()).value_or("");
    if (!t.empty()) return t;
    if (root["manifests"].present()) return std::string(media::kOciIndex);
    if (root["layers"].present() || root["config"].present())
      return std::string(media::kOciManifest);
    return root["mediaType"].Invalid(
        "missing, and the document is neither an index nor a manifest");
  });
}

std::vector<Digest> ChainIds(const std::vector<Digest>& diff_ids) {
  std::vector<Digest> out;
  out.reserve(diff_ids.size());
  for (const Digest& d : diff_ids) {
    out.push_back(out.empty() ? d : Sha256Of(out.back().str() + " " + d.str()));
  }
  return out;
}

std::string DescriptorToJson(const Descriptor& d) {
  json::bj::object o;
  o["mediaType"] = d.media_type;
  o["digest"] = d.digest.str();
  o["size"] = d.size;
  if (!d.urls.empty()) {
    json::bj::array urls;
    for (const std::string& u : d.urls)
      urls.emplace_back(u);
    o["urls"] = std::move(urls);
  }
  if (!d.annotations.empty()) {
    json::bj::object a;
    for (const auto& [k, v] : d.annotations)
      a[k] = v;
    o["annotations"] = std::move(a);
  }
  if (d.platform) {
    json::bj::object p{{"architecture", d.platform->architecture}, {"os", d.platform->os}};
    if (!d.platform->variant.empty()) p["variant"] = d.platform->variant;
    o["platform"] = std::move(p);
  }
  return json::bj::serialize(o);
}

}  // namespace berth::image
