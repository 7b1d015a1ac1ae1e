// bench/image-pull: pull + unpack of a locally built ~200 MB multi-layer
// image from a local registry, berth against containerd on the same
// machine, in the same run.
//
// Setup (not timed): writes an OCI layout of seven gzip layers (random and
// half-compressible files from 512 KiB to 80 MiB, a layer of 4000 small
// files with links, one of whiteouts), starts Debian's docker-registry on
// 127.0.0.1 and pushes the image there once with skopeo.
//
// Each round, interleaved (the order alternates per round): berth pulls into
// a fresh, empty image root (`berth image --root DIR pull --plain-http
// --quiet REF`, timed); and a fresh containerd (started untimed, own
// root/state/socket) pulls with `ctr image pull --plain-http REF` (timed;
// ctr unpacks into the overlayfs snapshotter), then containerd is stopped
// and leftover mounts detached. Both check that every layer was unpacked.
// The rounds' directories (about 0.75 GB a round) are removed at the end,
// not between rounds (see RunRound). Prints the median and p90 per runtime
// and berth/containerd. Not a test: the figure is the ratio (target: at
// most 0.8).
//
//   image-pull [--rounds N] [--berth PATH] [--work-dir DIR] [--serve]
//
// --serve builds and pushes the image, prints the reference and waits for
// SIGINT/SIGTERM (for profiling pulls by hand), then cleans up.

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/stats.h"
#include "common/file.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/time.h"
#include "integration/containerd/containerd_daemon.h"
#include "runtime/image/digest.h"
#include "runtime/image/manifest.h"
#include "runtime/image/registry/tests/registry_process.h"

namespace {

using berth::bench::Percentile;

using berth::Command;
using berth::Errc;
using berth::Error;
using berth::Ok;
using berth::Result;
using berth::Status;
namespace img = berth::image;

constexpr size_t kMiB = size_t{1024} * 1024;
constexpr char kRepo[] = "bench/image-pull:v1";

volatile std::sig_atomic_t g_stop = 0;

void OnSignal(int) {
  g_stop = 1;
}

std::string Arg(int argc, char** argv, const std::string& flag, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == flag) return argv[i + 1];
  }
  return fallback;
}

bool HasFlag(int argc, char** argv, const std::string& flag) {
  return std::any_of(argv + 1, argv + argc, [&](const char* a) { return flag == a; });
}

std::string SelfDir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return berth::Dirname(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0));
}

double SecondsSince(int64_t start) {
  return static_cast<double>(berth::MonotonicNanos() - start) / 1e9;
}

// ---------------------------------------------------------------------------
// The image.

// splitmix64: fast, and seeded per layer so the image is the same every run.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  size_t Between(size_t lo, size_t hi) { return lo + static_cast<size_t>(Next() % (hi - lo + 1)); }
  // Random bytes (incompressible), or 16 letters at random: 4 bits of
  // entropy per byte, which gzip halves, as it does typical binaries.
  void Fill(std::string& buf, bool compressible) {
    size_t i = 0;
    if (!compressible) {
      for (; i + 8 <= buf.size(); i += 8) {
        uint64_t r = Next();
        std::memcpy(&buf[i], &r, 8);
      }
    }
    for (uint64_t r = 0; i < buf.size(); ++i, r >>= 4) {
      if (i % 16 == 0) r = Next();
      buf[i] = static_cast<char>('a' + (r & 15));
    }
  }

 private:
  uint64_t s_;
};

struct LayerBlob {
  img::Digest digest;   // of the gzip stream
  img::Digest diff_id;  // of the tar
  int64_t size = 0;
  int64_t tar_size = 0;
  int entries = 0;
};

// Streams tar entries (libarchive, pax) through gzip -1 (zlib) into
// <dir>/<name>, hashing the tar and the gzip stream on the way.
class LayerWriter {
 public:
  LayerWriter(std::string path, uint64_t seed) : path_(std::move(path)), rng_(seed) {}
  ~LayerWriter() {
    if (archive_ != nullptr) archive_write_free(archive_);
    if (deflating_) deflateEnd(&z_);
  }
  LayerWriter(const LayerWriter&) = delete;
  LayerWriter& operator=(const LayerWriter&) = delete;

  Status Open() {
    fd_ = berth::UniqueFd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd_) return Error::Sys("open", path_);
    if (deflateInit2(&z_, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      return Error(Errc::kInternal, "deflateInit2 failed");
    deflating_ = true;
    archive_ = archive_write_new();
    if (archive_ == nullptr || archive_write_set_format_pax_restricted(archive_) != ARCHIVE_OK ||
        archive_write_open(archive_, this, nullptr, &LayerWriter::OnWrite, nullptr) != ARCHIVE_OK)
      return ArchiveError("open");
    return Ok();
  }

  Status Dir(const std::string& path) { return Entry(path, AE_IFDIR, 0755, 0, nullptr, ""); }
  Status Symlink(const std::string& path, const std::string& target) {
    return Entry(path, AE_IFLNK, 0777, 0, nullptr, target);
  }
  Status Hardlink(const std::string& path, const std::string& target) {
    return Entry(path, AE_IFREG, 0644, 0, nullptr, "", target);
  }
  // A regular file of `size` generated bytes.
  Status File(const std::string& path, size_t size, bool compressible) {
    return Entry(path, AE_IFREG, 0644, size, &compressible, "");
  }

  Result<LayerBlob> Finish() {
    if (archive_write_close(archive_) != ARCHIVE_OK) return ArchiveError("close");
    BERTH_TRY(Deflate(nullptr, 0, Z_FINISH));
    blob_.digest = gz_hash_.Finish();
    blob_.diff_id = tar_hash_.Finish();
    return blob_;
  }

 private:
  static la_ssize_t OnWrite(struct archive*, void* self, const void* data, size_t n) {
    auto* w = static_cast<LayerWriter*>(self);
    Status s = w->Deflate(data, n, Z_NO_FLUSH);
    if (!s.ok()) {
      w->error_ = s.error().str();
      return -1;
    }
    return static_cast<la_ssize_t>(n);
  }

  Status Deflate(const void* data, size_t n, int flush) {
    tar_hash_.Update(data, n);
    blob_.tar_size += static_cast<int64_t>(n);
    z_.next_in = static_cast<Bytef*>(const_cast<void*>(data));
    z_.avail_in = static_cast<uInt>(n);
    char out[1 << 16];
    int rc = Z_OK;
    do {
      z_.next_out = reinterpret_cast<Bytef*>(out);
      z_.avail_out = sizeof out;
      rc = deflate(&z_, flush);
      if (rc == Z_STREAM_ERROR) return Error(Errc::kInternal, "deflate failed");
      size_t have = sizeof out - z_.avail_out;
      gz_hash_.Update(out, have);
      blob_.size += static_cast<int64_t>(have);
      BERTH_TRY(WriteOut(out, have));
    } while (z_.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    return Ok();
  }

  Status WriteOut(const char* data, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd_.get(), data, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Error::Sys("write", path_);
      data += w;
      n -= static_cast<size_t>(w);
    }
    return Ok();
  }

  Status Entry(const std::string& path, unsigned type, int mode, size_t size,
               const bool* compressible, const std::string& symlink,
               const std::string& hardlink = "") {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                               archive_entry_free);
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), mode);
    archive_entry_set_mtime(e.get(), 1700000000, 0);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
    if (!symlink.empty()) archive_entry_set_symlink(e.get(), symlink.c_str());
    if (!hardlink.empty()) archive_entry_set_hardlink(e.get(), hardlink.c_str());
    if (archive_write_header(archive_, e.get()) != ARCHIVE_OK) return ArchiveError(path);
    ++blob_.entries;
    for (size_t done = 0; compressible != nullptr && done < size;) {
      buf_.resize(std::min(size - done, size_t{1} << 20));
      rng_.Fill(buf_, *compressible);
      if (archive_write_data(archive_, buf_.data(), buf_.size()) < 0) return ArchiveError(path);
      done += buf_.size();
    }
    return Ok();
  }

  Error ArchiveError(const std::string& what) const {
    std::string msg = archive_ != nullptr && archive_error_string(archive_) != nullptr
                          ? archive_error_string(archive_)
                          : "libarchive failed";
    return Error(Errc::kInternal, path_ + ": tar " + what + ": " + msg + " " + error_);
  }

  std::string path_;
  Rng rng_;
  berth::UniqueFd fd_;
  z_stream z_{};
  bool deflating_ = false;
  struct archive* archive_ = nullptr;
  img::Sha256 tar_hash_, gz_hash_;
  LayerBlob blob_;
  std::string buf_;
  std::string error_;
};

// One layer: `files` files of `file_size` bytes under `dir`; `small_files`
// files of 256 B - 8 KiB, 20 per directory, with a symlink and a hard link
// to every 40th; whiteouts for the first `whiteouts` small files of layer 0.
struct LayerRecipe {
  const char* dir;
  int files;
  size_t file_size;
  bool compressible;
  int small_files;
  int whiteouts;
};

constexpr LayerRecipe kLayers[] = {
    {"usr/share/base", 0, 0, false, 4000, 0},   {"opt/big", 1, 80 * kMiB, false, 0, 0},
    {"usr/lib/text", 3, 10 * kMiB, true, 0, 0}, {"usr/lib/bin", 5, 5 * kMiB, false, 0, 0},
    {"usr/lib/data", 40, kMiB / 2, true, 0, 0}, {"var/lib/mixed", 3, 5 * kMiB, false, 500, 0},
    {"srv/top", 1, 10 * kMiB, false, 0, 40},
};
constexpr size_t kLayerCount = sizeof kLayers / sizeof kLayers[0];

std::string SmallDir(const std::string& dir, int i) {
  char name[32];
  std::snprintf(name, sizeof name, "/d%03d", i / 20);
  return dir + name;
}

std::string SmallName(int i) {
  char name[32];
  std::snprintf(name, sizeof name, "f%05d", i);
  return name;
}

Status WriteLayerEntries(LayerWriter& w, const LayerRecipe& r, Rng& sizes) {
  // Parent directories first, as tar does.
  std::string path;
  for (const std::string& part : berth::SplitNonEmpty(r.dir, '/')) {
    path += (path.empty() ? "" : "/") + part;
    BERTH_TRY(w.Dir(path));
  }
  for (int i = 0; i < r.files; ++i)
    BERTH_TRY(
        w.File(std::string(r.dir) + "/file" + std::to_string(i), r.file_size, r.compressible));
  for (int i = 0; i < r.small_files; ++i) {
    std::string sub = SmallDir(r.dir, i);
    if (i % 20 == 0) BERTH_TRY(w.Dir(sub));
    std::string file = sub + "/" + SmallName(i);
    BERTH_TRY(w.File(file, sizes.Between(256, 8192), true));
    if (i % 40 == 0) {
      BERTH_TRY(w.Symlink(file + ".link", SmallName(i)));
      BERTH_TRY(w.Hardlink(file + ".hard", file));
    }
  }
  for (int i = 0; i < r.whiteouts; ++i) {
    std::string sub = SmallDir(kLayers[0].dir, i);
    if (i % 20 == 0) {
      std::string p;
      for (const std::string& part : berth::SplitNonEmpty(sub, '/')) {
        p += (p.empty() ? "" : "/") + part;
        BERTH_TRY(w.Dir(p));
      }
    }
    BERTH_TRY(w.File(sub + "/.wh." + SmallName(i), 0, false));
  }
  return Ok();
}

Result<LayerBlob> WriteLayer(const std::string& path, size_t index) {
  LayerWriter w(path, 0x6265727468ULL + index);
  BERTH_TRY(w.Open());
  Rng sizes(index);
  BERTH_TRY(WriteLayerEntries(w, kLayers[index], sizes));
  return w.Finish();
}

struct Image {
  std::vector<LayerBlob> layers;
  int64_t size = 0;      // gzip bytes
  int64_t tar_size = 0;  // uncompressed
  int entries = 0;
};

Result<img::Descriptor> PutBlob(const std::string& layout, std::string_view media_type,
                                const std::string& data) {
  img::Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = img::Sha256Of(data);
  d.size = static_cast<int64_t>(data.size());
  BERTH_TRY(berth::WriteFile(layout + "/blobs/sha256/" + d.digest.hex(), data));
  return d;
}

// The OCI layout <layout> with the image tagged "bench"; layers are written
// by two threads (this host has two cores).
Result<Image> BuildLayout(const std::string& layout) {
  BERTH_TRY(berth::MkdirAll(layout + "/blobs/sha256"));
  BERTH_TRY(berth::WriteFile(layout + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  std::vector<Result<LayerBlob>> results(kLayerCount, Error(Errc::kInternal, "not written"));
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  threads.reserve(2);
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < kLayerCount; i = next++)
        results[i] = WriteLayer(layout + "/blobs/layer-" + std::to_string(i), i);
    });
  }
  for (std::thread& t : threads)
    t.join();
  Image image;
  std::vector<std::string> diff_ids, layer_json;
  for (size_t i = 0; i < kLayerCount; ++i) {
    if (!results[i].ok()) return std::move(results[i]).error();
    const LayerBlob& b = *results[i];
    std::string from = layout + "/blobs/layer-" + std::to_string(i);
    if (::rename(from.c_str(), (layout + "/blobs/sha256/" + b.digest.hex()).c_str()) != 0)
      return Error::Sys("rename", from);
    img::Descriptor d;
    d.media_type = std::string(img::media::kOciLayerGzip);
    d.digest = b.digest;
    d.size = b.size;
    layer_json.push_back(img::DescriptorToJson(d));
    diff_ids.push_back("\"" + b.diff_id.str() + "\"");
    image.layers.push_back(b);
    image.size += b.size;
    image.tar_size += b.tar_size;
    image.entries += b.entries;
  }
  img::Platform host = img::HostPlatform();
  std::string config = R"({"architecture":")" + host.architecture + R"(","os":"linux",)" +
                       R"("config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[)" +
                       berth::Join(diff_ids, ",") + "]}}";
  img::Descriptor cfg = BERTH_TRY(PutBlob(layout, img::media::kOciConfig, config));
  std::string manifest = R"({"schemaVersion":2,"mediaType":")" +
                         std::string(img::media::kOciManifest) + R"(","config":)" +
                         img::DescriptorToJson(cfg) + R"(,"layers":[)" +
                         berth::Join(layer_json, ",") + "]}";
  img::Descriptor m = BERTH_TRY(PutBlob(layout, img::media::kOciManifest, manifest));
  m.annotations["org.opencontainers.image.ref.name"] = "bench";
  BERTH_TRY(berth::WriteFile(layout + "/index.json", R"({"schemaVersion":2,"manifests":[)" +
                                                         img::DescriptorToJson(m) + "]}"));
  return image;
}

// ---------------------------------------------------------------------------
// The rounds.

struct Runner {
  std::string name;
  std::vector<double> seconds;
  bool broken = false;
};

Status PullWithBerth(const std::string& berth_bin, const std::string& root, const std::string& ref,
                     Runner& rt) {
  Command cmd;
  cmd.argv = {berth_bin, "image", "--root", root, "pull", "--plain-http", "--quiet", ref};
  cmd.timeout = std::chrono::minutes(10);
  int64_t start = berth::MonotonicNanos();
  berth::CommandResult r = BERTH_TRY(berth::RunCommand(cmd));
  double took = SecondsSince(start);
  if (!r.success()) return Error(Errc::kInternal, "berth pull: " + r.Describe() + ": " + r.err);
  // Unpacked: one committed snapshot per layer.
  std::vector<std::string> snapshots = BERTH_TRY(berth::ListDir(root + "/snapshots"));
  size_t committed = std::count_if(snapshots.begin(), snapshots.end(),
                                   [](const std::string& s) { return s.size() == 64; });
  if (committed != kLayerCount) {
    return Error(Errc::kInternal, "berth pull left " + std::to_string(committed) +
                                      " snapshots, want " + std::to_string(kLayerCount));
  }
  rt.seconds.push_back(took);
  return Ok();
}

Status PullWithContainerd(const std::string& dir, const std::string& ref, Runner& rt) {
  berth::integration::ContainerdOptions options;
  options.dir = dir;
  options.ns = "bench";
  std::unique_ptr<berth::integration::Containerd> containerd =
      BERTH_TRY(berth::integration::Containerd::Start(options));
  int64_t start = berth::MonotonicNanos();
  berth::CommandResult r = BERTH_TRY(containerd->Ctr({"image", "pull", "--plain-http", ref}));
  double took = SecondsSince(start);
  if (!r.success() || r.out.find("unpacking ") == std::string::npos) {
    return Error(Errc::kInternal, "ctr image pull: " + r.Describe() + ": " + r.err + r.out);
  }
  // Unpacked: a committed overlayfs snapshot per layer (plus the header).
  berth::CommandResult ls = BERTH_TRY(containerd->Ctr({"snapshots", "ls"}));
  size_t rows = berth::SplitNonEmpty(ls.out, '\n').size();
  if (!ls.success() || rows != kLayerCount + 1) {
    return Error(Errc::kInternal, "ctr snapshots ls: " + std::to_string(rows) + " rows: " + ls.out);
  }
  BERTH_TRY(containerd->Stop());
  rt.seconds.push_back(took);
  return Ok();
}

// What a stopped containerd can leave: its shims (none after a pull) and
// mounts under its directory. The directory itself goes at the end.
void CleanContainerdDir(const std::string& dir) {
  berth::integration::KillShims(dir);
  Status s = berth::integration::UnmountUnder(dir);
  if (!s.ok()) std::fprintf(stderr, "image-pull: %s\n", s.error().str().c_str());
}

// Every round pulls into new directories, all removed only at the end:
// on ext4 without a journal (this host's root) a file created within 60 s
// (300 s while the inode table is dirty) of mass deletions in its block
// group costs a scan past every recently deleted inode (ext4
// find_inode_bit -> recently_deleted), so removing a round's 5000 files
// before the next pull made that pull measure ext4, not the runtime.
void RunRound(int round, const std::string& work, const std::string& berth_bin,
              const std::string& ref, Runner& berth_rt, Runner& containerd_rt) {
  auto berth_round = [&] {
    if (berth_rt.broken || g_stop) return;
    std::string root = work + "/berth-" + std::to_string(round);
    Status s = PullWithBerth(berth_bin, root, ref, berth_rt);
    if (!s.ok()) {
      std::fprintf(stderr, "berth: %s\n", s.error().str().c_str());
      berth_rt.broken = true;
    }
  };
  auto containerd_round = [&] {
    if (containerd_rt.broken || g_stop) return;
    std::string dir = work + "/containerd-" + std::to_string(round);
    Status s = PullWithContainerd(dir, ref, containerd_rt);
    CleanContainerdDir(dir);
    if (!s.ok()) {
      std::fprintf(stderr, "containerd: %s\n", s.error().str().c_str());
      containerd_rt.broken = true;
    }
  };
  if (round % 2 == 0) {
    berth_round();
    containerd_round();
  } else {
    containerd_round();
    berth_round();
  }
  auto last = [round](const Runner& rt) -> std::string {
    if (rt.seconds.size() != static_cast<size_t>(round) + 1) return "-";
    char text[32];
    std::snprintf(text, sizeof text, "%.2f s", rt.seconds.back());
    return text;
  };
  std::fprintf(stderr, "image-pull: round %d: berth %s, containerd %s\n", round + 1,
               last(berth_rt).c_str(), last(containerd_rt).c_str());
}

void PrintResults(const Image& image, int rounds, const Runner& berth_rt,
                  const Runner& containerd_rt) {
  std::printf(
      "image-pull: %d rounds of pull + unpack, %zu layers, %.1f MiB gzip, %.1f MiB tar, "
      "%d tar entries\n",
      rounds, image.layers.size(), static_cast<double>(image.size) / kMiB,
      static_cast<double>(image.tar_size) / kMiB, image.entries);
  std::printf("%-11s %9s %9s %10s %16s\n", "runtime", "median s", "p90 s", "MiB/s", "berth/this");
  double berth_median = berth_rt.seconds.empty() ? 0 : Percentile(berth_rt.seconds, 0.5);
  for (const Runner* rt : {&berth_rt, &containerd_rt}) {
    if (rt->seconds.empty()) {
      std::printf("%-11s %9s %9s %10s %16s\n", rt->name.c_str(), "-", "-", "-", "n/a");
      continue;
    }
    double median = Percentile(rt->seconds, 0.5);
    std::printf("%-11s %9.2f %9.2f %10.1f %16.2f\n", rt->name.c_str(), median,
                Percentile(rt->seconds, 0.9), static_cast<double>(image.size) / kMiB / median,
                berth_median > 0 ? berth_median / median : 0.0);
  }
  if (!berth_rt.seconds.empty() && !containerd_rt.seconds.empty()) {
    double ratio = berth_median / Percentile(containerd_rt.seconds, 0.5);
    std::printf("berth/containerd %.2f (target <= 0.80: %s)\n", ratio,
                ratio <= 0.8 ? "met" : "not met");
  }
}

using berth::image::registry::testing::RegistryProcess;

struct Setup {
  Image image;
  std::unique_ptr<RegistryProcess> registry;
  std::string ref;
};

// The image, built under <work>/layout, pushed to a registry serving
// <work>/registry; the layout is removed afterwards.
Result<Setup> Prepare(const std::string& work) {
  Setup setup;
  int64_t start = berth::MonotonicNanos();
  setup.image = BERTH_TRY_CTX(BuildLayout(work + "/layout"), "building the image");
  std::fprintf(stderr, "image-pull: image built in %.1f s\n", SecondsSince(start));
  BERTH_TRY(berth::MkdirAll(work + "/registry"));
  setup.registry = BERTH_TRY(RegistryProcess::Start(work + "/registry"));
  setup.ref = setup.registry->host() + "/" + kRepo;
  start = berth::MonotonicNanos();
  BERTH_TRY(berth::image::registry::testing::PushLayout(work + "/layout", "bench", setup.ref));
  std::fprintf(stderr, "image-pull: pushed %s in %.1f s\n", setup.ref.c_str(), SecondsSince(start));
  (void)berth::RemoveAll(work + "/layout");
  return setup;
}

// Everything the bench made, removed also when a step failed.
struct WorkDir {
  std::string path;
  ~WorkDir() {
    if (path.empty()) return;
    Status s = berth::integration::UnmountUnder(path);
    if (!s.ok()) std::fprintf(stderr, "image-pull: %s\n", s.error().str().c_str());
    (void)berth::RemoveAll(path);
  }
};

}  // namespace

int main(int argc, char** argv) {
  auto rounds_arg = berth::ParseInt<int>(Arg(argc, argv, "--rounds", "5"), "--rounds");
  if (!rounds_arg.ok() || *rounds_arg <= 0) {
    std::fprintf(stderr, "image-pull: --rounds wants a positive integer\n");
    return 2;
  }
  int rounds = *rounds_arg;
  bool serve = HasFlag(argc, argv, "--serve");
  std::string berth_bin = Arg(argc, argv, "--berth", SelfDir() + "/../cmd/berth");
  std::string parent = Arg(argc, argv, "--work-dir", "/tmp");
  for (const char* tool :
       {berth::image::registry::testing::kRegistryBinary, berth::image::registry::testing::kSkopeo,
        "/usr/bin/containerd", "/usr/bin/ctr", berth_bin.c_str()}) {
    if (::access(tool, X_OK) != 0) {
      std::fprintf(stderr,
                   "image-pull: %s is missing (apt-get install docker-registry skopeo "
                   "containerd; build target berth)\n",
                   tool);
      return 2;
    }
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;  // no SA_RESTART: waits return, rounds stop
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  std::string tmpl = parent + "/berth-bench-pull-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("image-pull: mkdtemp");
    return 1;
  }
  WorkDir work{tmpl};

  Result<Setup> setup = Prepare(work.path);
  if (!setup.ok()) {
    std::fprintf(stderr, "image-pull: %s\n", setup.error().str().c_str());
    return 1;
  }
  const std::string& ref = setup->ref;

  if (serve) {
    std::printf("%s\n", ref.c_str());
    std::fflush(stdout);
    while (!g_stop)
      ::pause();
    return 0;
  }

  Runner berth_rt{"berth", {}};
  Runner containerd_rt{"containerd", {}};
  for (int round = 0; round < rounds && !g_stop; ++round)
    RunRound(round, work.path, berth_bin, ref, berth_rt, containerd_rt);
  if (g_stop) std::fprintf(stderr, "image-pull: interrupted\n");
  PrintResults(setup->image, rounds, berth_rt, containerd_rt);
  return berth_rt.seconds.empty() || containerd_rt.seconds.empty() ? 1 : 0;
}
