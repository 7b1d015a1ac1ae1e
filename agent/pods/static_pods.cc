#include "agent/pods/static_pods.h"

#include <openssl/evp.h>

#include "agent/config/yaml_json.h"
#include "common/file.h"
#include "common/time.h"
#include "controlplane/client/api_util.h"

namespace berth::agent {

namespace bj = boost::json;
using controlplane::client::StringAt;
using controlplane::client::ValueAt;

namespace {

std::string HexDigest(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  // 16 bytes: the length of upstream's md5-based static pod uids.
  for (unsigned int i = 0; i < 16 && i < n; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

Result<bj::object> LoadManifest(const std::string& path, const std::string& node_name) {
  std::string text = BERTH_TRY(ReadFile(path));
  bj::value doc = BERTH_TRY(YamlToJson(text, path));
  if (!doc.is_object()) return Error(Errc::kInvalidArgument, path + ": not an object");
  bj::object pod = std::move(doc.get_object());
  if (StringAt(pod, {"kind"}) != "Pod") {
    return Error(Errc::kInvalidArgument,
                 path + ": kind \"" + StringAt(pod, {"kind"}) + "\" is not Pod");
  }
  bj::object& meta =
      pod["metadata"].is_object() ? pod["metadata"].get_object() : pod["metadata"].emplace_object();
  std::string name = StringAt(pod, {"metadata", "name"});
  if (name.empty()) return Error(Errc::kInvalidArgument, path + ": metadata.name is empty");
  std::string uid = StringAt(pod, {"metadata", "uid"});
  if (uid.empty()) uid = HexDigest("host:" + node_name + "\nfile:" + path + "\n" + text);
  meta["uid"] = uid;
  meta["name"] = name + "-" + node_name;
  if (StringAt(pod, {"metadata", "namespace"}).empty()) meta["namespace"] = "default";
  bj::object& annotations = meta["annotations"].is_object() ? meta["annotations"].get_object()
                                                            : meta["annotations"].emplace_object();
  annotations[kConfigHashAnnotation] = uid;
  annotations[kConfigSourceAnnotation] = "file";
  annotations["kubernetes.io/config.seen"] = FormatRfc3339Nano(WallClockNow());
  bj::object& spec =
      pod["spec"].is_object() ? pod["spec"].get_object() : pod["spec"].emplace_object();
  spec["nodeName"] = node_name;
  pod["apiVersion"] = "v1";
  pod.erase("status");
  return pod;
}

}  // namespace

StaticPodScan ScanStaticPods(const std::string& dir, const std::string& node_name) {
  StaticPodScan scan;
  Result<std::vector<std::string>> names = ListDir(dir);
  if (!names.ok()) {
    // A missing directory is no static pods (upstream logs and waits).
    if (names.error().code() != Errc::kNotFound) scan.errors.push_back(names.error().str());
    return scan;
  }
  for (const std::string& n : *names) {
    if (n.starts_with('.')) continue;
    if (!n.ends_with(".yaml") && !n.ends_with(".yml") && !n.ends_with(".json")) continue;
    Result<bj::object> pod = LoadManifest(dir + "/" + n, node_name);
    if (!pod.ok()) {
      scan.errors.push_back(pod.error().str());
      continue;
    }
    scan.pods[StringAt(*pod, {"metadata", "uid"})] = std::move(*pod);
  }
  return scan;
}

bool IsStaticPod(const bj::object& pod) {
  return StringAt(pod, {"metadata", "annotations", kConfigSourceAnnotation}) == "file";
}

bool IsMirrorPod(const bj::object& pod) {
  return ValueAt(pod, {"metadata", "annotations", kConfigMirrorAnnotation}) != nullptr;
}

bj::object MirrorPodOf(const bj::object& static_pod, const std::string& node_uid) {
  bj::object mirror = static_pod;
  bj::object& meta = mirror["metadata"].get_object();
  std::string hash = StringAt(static_pod, {"metadata", "uid"});
  meta.erase("uid");
  meta["annotations"].get_object()[kConfigMirrorAnnotation] = hash;
  std::string node = StringAt(static_pod, {"spec", "nodeName"});
  if (!node_uid.empty()) {
    meta["ownerReferences"] = bj::array{bj::object{{"apiVersion", "v1"},
                                                   {"kind", "Node"},
                                                   {"name", node},
                                                   {"uid", node_uid},
                                                   {"controller", true}}};
  }
  mirror["kind"] = "Pod";
  return mirror;
}

}  // namespace berth::agent
