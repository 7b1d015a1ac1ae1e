#pragma once
// Where FetchBlob puts content as it streams in.

#include <string>
#include <string_view>

#include "common/error.h"

namespace berth::image::registry {

// Receives a blob's bytes in order. The client verifies size and digest
// while streaming and calls Discard when what was written must not be used:
// before a retry (another attempt or mirror starts again from byte 0, so
// Write may follow Discard) and when verification fails. A blob is complete
// and verified only when FetchBlob returns Ok.
class BlobSink {
 public:
  virtual ~BlobSink() = default;
  // An error stops the transfer and is returned by FetchBlob as is.
  virtual Status Write(std::string_view data) = 0;
  virtual void Discard() = 0;
};

// Collects a blob in memory (small blobs, tests).
class StringBlobSink : public BlobSink {
 public:
  Status Write(std::string_view data) override {
    data_.append(data);
    return Ok();
  }
  void Discard() override {
    data_.clear();
    ++discards_;
  }
  const std::string& data() const { return data_; }
  int discards() const { return discards_; }

 private:
  std::string data_;
  int discards_ = 0;
};

}  // namespace berth::image::registry
