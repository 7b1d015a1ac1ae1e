#include "runtime/image/pull.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/time.h"
#include "runtime/image/registry/platform_select.h"

namespace berth::image {
namespace {

// The caller gave up (PullOptions::cancelled).
Status CheckCancelled(const PullOptions& options) {
  if (options.cancelled && options.cancelled()) return Error(Errc::kCancelled, "cancelled");
  return Ok();
}

// Streams a download into the content store's writer.
class StoreSink : public registry::BlobSink {
 public:
  StoreSink(BlobWriter& writer, const Descriptor& layer, const PullOptions& options,
            PullProgress* progress, const std::atomic<bool>& failed)
      : writer_(writer), layer_(layer), options_(options), progress_(progress), failed_(failed) {}
  Status Write(std::string_view data) override {
    if (failed_) return Error(Errc::kCancelled, "another layer failed");
    BERTH_TRY(CheckCancelled(options_));
    BERTH_TRY(writer_.Write(data));
    if (progress_) progress_->Layer(layer_, writer_.written(), false);
    return Ok();
  }
  void Discard() override { (void)writer_.Reset(); }

 private:
  BlobWriter& writer_;
  const Descriptor& layer_;
  const PullOptions& options_;
  PullProgress* progress_;
  const std::atomic<bool>& failed_;
};

// `progress` null: no progress reports (the config).
Status FetchToStore(registry::Client& client, const ContentStore& content, const Reference& ref,
                    const Descriptor& d, const PullOptions& options, PullProgress* progress,
                    const std::atomic<bool>& failed) {
  BERTH_TRY(CheckCancelled(options));
  // An unfinished writer (cancelled, failed) removes its partial data.
  std::unique_ptr<BlobWriter> writer = BERTH_TRY(content.Begin(d.digest, d.size));
  if (writer) {
    StoreSink sink(*writer, d, options, progress, failed);
    BERTH_TRY(client.FetchBlob(ref, d, sink));
    BERTH_TRY(writer->Commit());
  }
  if (progress) progress->Layer(d, static_cast<uint64_t>(d.size), true);
  return Ok();
}

// A document (manifest, index) into the store, fetched only when missing.
Result<std::string> FetchDocument(registry::Client& client, const ContentStore& content,
                                  const Reference& ref, const Descriptor& d) {
  if (content.Has(d.digest)) return content.Read(d.digest);
  std::string doc = BERTH_TRY(client.FetchManifest(ref, d));
  BERTH_TRY(content.Put(d.digest, doc));
  return doc;
}

// Layers downloaded by `parallel` threads; Wait(i) returns once layer i is
// in the store (or the first error of any layer).
class LayerDownloads {
 public:
  LayerDownloads(registry::Client& client, const ContentStore& content, const Reference& ref,
                 const std::vector<Descriptor>& layers, const PullOptions& options)
      : layers_(layers), done_(layers.size(), false) {
    int threads = std::max(1, std::min<int>(options.parallel, static_cast<int>(layers.size())));
    for (int t = 0; t < threads; ++t) {
      workers_.emplace_back([this, &client, &content, &ref, &options] {
        while (true) {
          size_t i = next_++;
          if (i >= layers_.size() || failed_) return;
          // A layer taken is done or fails (cancelled included), so that
          // Wait(i) always returns.
          Status s =
              FetchToStore(client, content, ref, layers_[i], options, options.progress, failed_);
          std::lock_guard<std::mutex> lock(mu_);
          if (!s.ok() && error_.ok()) {
            error_ = std::move(s);
            failed_ = true;
          }
          done_[i] = true;
          cv_.notify_all();
        }
      });
    }
  }
  ~LayerDownloads() {
    failed_ = failed_ || next_ < layers_.size();
    for (std::thread& t : workers_)
      t.join();
  }
  LayerDownloads(const LayerDownloads&) = delete;
  LayerDownloads& operator=(const LayerDownloads&) = delete;

  Status Wait(size_t i) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_[i] || !error_.ok(); });
    if (!error_.ok()) return error_;
    return Ok();
  }
  void Cancel() { failed_ = true; }

 private:
  const std::vector<Descriptor>& layers_;
  std::vector<bool> done_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> failed_{false};  // stop: a layer failed, or the pull ended
  std::mutex mu_;
  std::condition_variable cv_;
  Status error_ = Ok();
  std::vector<std::thread> workers_;
};

Result<ImageRecord> PullImage(ImageRoot& root, const Reference& ref, const PullOptions& options) {
  const ContentStore& content = root.content();
  registry::Client client(options.client);
  Descriptor top = BERTH_TRY(client.Resolve(ref));
  BERTH_TRY(CheckCancelled(options));
  std::string doc = BERTH_TRY(FetchDocument(client, content, ref, top));
  Descriptor manifest_desc = top;
  if (media::IsIndex(top.media_type)) {
    Index index = BERTH_TRY(ParseIndex(doc, "index " + top.digest.str()));
    manifest_desc =
        BERTH_TRY(registry::SelectManifest(index, options.platform, "index " + top.digest.str()));
    BERTH_TRY(CheckCancelled(options));
    doc = BERTH_TRY(FetchDocument(client, content, ref, manifest_desc));
  }
  if (options.progress) options.progress->Resolved(ref, manifest_desc);
  Manifest manifest = BERTH_TRY(ParseManifest(doc, "manifest " + manifest_desc.digest.str()));
  std::atomic<bool> never{false};
  BERTH_TRY(FetchToStore(client, content, ref, manifest.config, options, nullptr, never));

  ImageRecord record;
  record.name = ref.String();
  record.target = top;
  record.platform = options.platform.String();
  record.created = FormatRfc3339Nano(WallClockNow());

  LayerDownloads downloads(client, content, ref, manifest.layers, options);
  if (options.unpack) {
    // Each layer is applied as soon as it is in the store, while the
    // layers above it still download.
    BERTH_TRY(root.Unpack(record, options.platform, [&](size_t i) -> Status {
      BERTH_TRY(CheckCancelled(options));
      return downloads.Wait(i);
    }));
  } else {
    for (size_t i = 0; i < manifest.layers.size(); ++i)
      BERTH_TRY(downloads.Wait(i));
  }
  BERTH_TRY(CheckCancelled(options));
  BERTH_TRY(root.images().Put(record));
  return record;
}

}  // namespace

Result<ImageRecord> Pull(ImageRoot& root, const Reference& ref, const PullOptions& options) {
  Result<ImageRecord> r = PullImage(root, ref, options);
  if (!r.ok()) return std::move(r).error().Wrap("pull " + ref.String());
  return r;
}

}  // namespace berth::image
