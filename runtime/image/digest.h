#pragma once
// Content digests ("sha256:<64 hex>") as the OCI image spec defines them,
// and a streaming SHA-256 for verifying content while it is read.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace berth::image {

class Digest {
 public:
  Digest() = default;
  // "sha256:<64 lowercase hex>" (sha512: 128). Other registered algorithms
  // are refused with an error naming `what` (the field or argument).
  static Result<Digest> Parse(std::string_view text, std::string_view what = "digest");
  static Digest Sha256Hex(std::string hex);  // hex must be 64 lowercase chars

  const std::string& algorithm() const { return algorithm_; }
  const std::string& hex() const { return hex_; }
  std::string str() const { return algorithm_ + ":" + hex_; }
  bool empty() const { return hex_.empty(); }
  bool operator==(const Digest& other) const = default;
  auto operator<=>(const Digest& other) const = default;

 private:
  Digest(std::string algorithm, std::string hex)
      : algorithm_(std::move(algorithm)), hex_(std::move(hex)) {}
  std::string algorithm_;
  std::string hex_;
};

// Incremental SHA-256 (OpenSSL EVP).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // The digest of everything so far; the hasher is reset afterwards.
  Digest Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

Digest Sha256Of(std::string_view data);
// SHA-256 of a file's content.
Result<Digest> Sha256OfFile(const std::string& path);

}  // namespace berth::image
