#pragma once
// Image references with Docker's normalization (distribution/reference):
//   busybox                  -> docker.io/library/busybox:latest
//   user/app:1.0             -> docker.io/user/app:1.0
//   localhost:5000/app@sha256:...  (a digest pins the content; a tag may
//                                   accompany it and is then informational)
//   registry.k8s.io/pause:3.9
// The first path component is a registry host when it contains '.' or ':'
// or is "localhost"; "index.docker.io" is "docker.io".

#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "runtime/image/digest.h"

namespace berth::image {

inline constexpr std::string_view kDockerHub = "docker.io";

struct Reference {
  std::string domain;  // "docker.io", "localhost:5000"
  std::string path;    // "library/busybox"
  std::string tag;     // "" when only a digest was given
  std::optional<Digest> digest;

  // Parses and normalizes; errors name `what` and say which rule failed.
  static Result<Reference> Parse(std::string_view text, std::string_view what = "image reference");

  std::string Name() const { return domain + "/" + path; }  // without tag/digest
  // Fully qualified: name[:tag][@digest].
  std::string String() const;
  // Docker's short form: "busybox:latest", "user/app:1.0".
  std::string Familiar() const;
  // What the registry is asked for: the digest if pinned, else the tag.
  std::string Object() const { return digest ? digest->str() : tag; }
  bool operator==(const Reference& other) const = default;
};

}  // namespace berth::image
