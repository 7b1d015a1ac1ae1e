#pragma once
// OCI image-spec documents (and their Docker schema2 equivalents): content
// descriptors, image indexes / manifest lists, image manifests and the image
// config. Parsed with json::Field, so errors name the field
// ("manifest sha256:...: layers[2].digest: ...").

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/json.h"
#include "runtime/image/digest.h"

namespace berth::image {

namespace media {
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kOciLayerNondistGzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerForeignLayerGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

bool IsIndex(std::string_view media_type);
bool IsManifest(std::string_view media_type);
bool IsLayer(std::string_view media_type);
}  // namespace media

struct Platform {
  std::string architecture;  // GOARCH names: amd64, arm64, arm, ...
  std::string os;            // linux
  std::string variant;       // v7, v8, ...
  std::string os_version;
  std::vector<std::string> os_features;
  std::string String() const;  // "linux/arm64/v8"
  bool operator==(const Platform& other) const = default;
};

// "linux/amd64", "linux/arm/v7"; errors name `what`.
Result<Platform> ParsePlatform(std::string_view text, std::string_view what = "platform");
// The platform berth runs on (GOARCH naming, with the default variant).
Platform HostPlatform();
// containerd's platforms.Only: `want` itself, plus compatible variants
// (arm64 is also arm64/v8; for arm, lower variants).
bool PlatformMatches(const Platform& want, const Platform& have);

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
};

struct Index {
  int schema_version = 2;
  std::string media_type;
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
};

struct Manifest {
  int schema_version = 2;
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
};

// The parts of the image config a runtime uses.
struct ImageConfig {
  Platform platform;
  std::string user;
  std::vector<std::string> env;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::vector<std::string> exposed_ports;  // "80/tcp"
  std::vector<std::string> volumes;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  std::vector<Digest> diff_ids;  // rootfs.diff_ids
  std::string created;
  bool entrypoint_set = false;  // "Entrypoint": [] differs from absent
  bool cmd_set = false;
};

Result<Descriptor> ParseDescriptor(const json::Field& field);
// `what` prefixes errors (e.g. "manifest sha256:..."). The media type comes
// from the document, or from `media_type` (a descriptor's or the HTTP
// Content-Type) when the document has none.
Result<Index> ParseIndex(std::string_view json, std::string_view what);
Result<Manifest> ParseManifest(std::string_view json, std::string_view what);
Result<ImageConfig> ParseImageConfig(std::string_view json, std::string_view what);
// The document's own mediaType field ("" when absent), or, for documents
// without one, a guess from their shape ("manifests" -> index, "layers" ->
// manifest).
Result<std::string> DetectMediaType(std::string_view json, std::string_view what);

// ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
std::vector<Digest> ChainIds(const std::vector<Digest>& diff_ids);

std::string DescriptorToJson(const Descriptor& d);

}  // namespace berth::image
