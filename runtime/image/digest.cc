#include "runtime/image/digest.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <array>

#include "common/fd.h"
#include "common/file.h"

namespace berth::image {
namespace {

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<Digest> Digest::Parse(std::string_view text, std::string_view what) {
  size_t colon = text.find(':');
  auto invalid = [&](const std::string& why) {
    return Error(Errc::kInvalidArgument,
                 std::string(what) + ": invalid digest \"" + std::string(text) + "\": " + why);
  };
  if (colon == std::string_view::npos) return invalid("want <algorithm>:<hex>");
  std::string_view algorithm = text.substr(0, colon);
  std::string_view hex = text.substr(colon + 1);
  size_t want = 0;
  if (algorithm == "sha256") {
    want = 64;
  } else if (algorithm == "sha512") {
    want = 128;
  } else {
    return invalid("unsupported algorithm \"" + std::string(algorithm) + "\"");
  }
  if (hex.size() != want || !IsLowerHex(hex)) {
    return invalid(std::to_string(want) + " lowercase hex characters expected after \"" +
                   std::string(algorithm) + ":\"");
  }
  return Digest(std::string(algorithm), std::string(hex));
}

Digest Digest::Sha256Hex(std::string hex) {
  return Digest("sha256", std::move(hex));
}

struct Sha256::State {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr);
}

Sha256::~Sha256() {
  if (state_) EVP_MD_CTX_free(state_->ctx);
}

Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&& other) noexcept {
  if (this != &other) {
    if (state_) EVP_MD_CTX_free(state_->ctx);
    state_ = std::move(other.state_);
  }
  return *this;
}

void Sha256::Update(const void* data, size_t size) {
  EVP_DigestUpdate(state_->ctx, data, size);
}

Digest Sha256::Finish() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx, md.data(), &len);
  EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size_t{len} * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 0xf]);
  }
  return Digest::Sha256Hex(std::move(hex));
}

Digest Sha256Of(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

Result<Digest> Sha256OfFile(const std::string& path) {
  UniqueFd fd = BERTH_TRY(Open(path, O_RDONLY | O_CLOEXEC));
  Sha256 h;
  std::array<char, 1 << 16> buf{};
  while (true) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::Sys("read", path);
    if (n == 0) break;
    h.Update(buf.data(), static_cast<size_t>(n));
  }
  return h.Finish();
}

}  // namespace berth::image
