// blkio on cgroup v1 (runc's fs mapping):
//   weight, weightDevice[].weight -> blkio.weight(_device), or the BFQ
//                                    files blkio.bfq.weight(_device) when
//                                    CFQ is gone (Linux 5.0+)
//   leafWeight, weightDevice[].leafWeight -> blkio.leaf_weight(_device)
//   throttle*Device -> blkio.throttle.{read,write}_{bps,iops}_device
// Stats come from the CFQ, then BFQ, then throttle *_recursive files.

#include "cgroups/cgroupfs.h"
#include "cgroups/v1/controllers.h"
#include "common/strings.h"

namespace berth::cgroups::v1 {

namespace {

std::string F(const std::string& name) {
  return std::string(kField) + "blockIO." + name;
}

std::string Dev(int64_t major, int64_t minor) {
  return std::to_string(major) + ":" + std::to_string(minor);
}

struct WeightFiles {
  std::string weight, weight_device;
};

Result<WeightFiles> DetectWeightFiles(const std::string& dir) {
  if (KnobExists(dir, "blkio.weight")) return WeightFiles{"blkio.weight", "blkio.weight_device"};
  if (KnobExists(dir, "blkio.bfq.weight")) {
    return WeightFiles{"blkio.bfq.weight", "blkio.bfq.weight_device"};
  }
  return Error(Errc::kFailedPrecondition,
               F("weight") + ": neither blkio.weight nor blkio.bfq.weight exists in `" + dir +
                   "` (no proportional-weight I/O scheduler: use BFQ)");
}

Status WriteWeights(const std::string& dir, const BlockIo& io) {
  bool weights = io.weight.value_or(0) != 0;
  for (const WeightDevice& d : io.weight_device)
    weights = weights || d.weight;
  WeightFiles files;
  if (weights) files = BERTH_TRY(DetectWeightFiles(dir));
  if (io.weight.value_or(0) != 0) {
    BERTH_TRY_CTX(WriteKnob(dir, files.weight, std::to_string(*io.weight)), F("weight"));
  }
  if (io.leaf_weight.value_or(0) != 0) {
    BERTH_TRY_CTX(WriteKnob(dir, "blkio.leaf_weight", std::to_string(*io.leaf_weight)),
                  F("leafWeight"));
  }
  for (size_t i = 0; i < io.weight_device.size(); ++i) {
    const WeightDevice& d = io.weight_device[i];
    std::string field = F("weightDevice[" + std::to_string(i) + "]");
    if (d.weight) {
      BERTH_TRY_CTX(WriteKnob(dir, files.weight_device,
                              Dev(d.major, d.minor) + " " + std::to_string(*d.weight)),
                    field);
    }
    if (d.leaf_weight) {
      BERTH_TRY_CTX(WriteKnob(dir, "blkio.leaf_weight_device",
                              Dev(d.major, d.minor) + " " + std::to_string(*d.leaf_weight)),
                    field);
    }
  }
  return Ok();
}

Status WriteThrottle(const std::string& dir, const std::vector<ThrottleDevice>& devices,
                     const char* file, const char* field) {
  for (const ThrottleDevice& d : devices) {
    BERTH_TRY_CTX(WriteKnob(dir, file, Dev(d.major, d.minor) + " " + std::to_string(d.rate)),
                  F(field));
  }
  return Ok();
}

// "8:0 Read 4096\n8:0 Write 0\n...\nTotal 4096"
Status ParseRecursive(std::string_view text, const std::string& what,
                      std::vector<BlkioEntry>* out) {
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> f = SplitNonEmpty(line, ' ');
    if (f.size() != 3) continue;  // "Total N" and blank lines
    std::vector<std::string> dev = Split(f[0], ':');
    if (dev.size() != 2) continue;
    BlkioEntry e;
    e.major = BERTH_TRY(ParseInt<uint64_t>(dev[0], what));
    e.minor = BERTH_TRY(ParseInt<uint64_t>(dev[1], what));
    e.op = f[1];
    e.value = BERTH_TRY(ParseInt<uint64_t>(f[2], what));
    out->push_back(e);
  }
  return Ok();
}

Status ReadTable(const std::string& dir, const std::string& file, std::vector<BlkioEntry>* out) {
  std::string text = BERTH_TRY(ReadKnob(dir, file));
  return ParseRecursive(text, KnobPath(dir, file), out);
}

}  // namespace

Status ApplyBlkio(const std::string& dir, const BlockIo& io) {
  BERTH_TRY(WriteWeights(dir, io));
  BERTH_TRY(WriteThrottle(dir, io.throttle_read_bps, "blkio.throttle.read_bps_device",
                          "throttleReadBpsDevice"));
  BERTH_TRY(WriteThrottle(dir, io.throttle_write_bps, "blkio.throttle.write_bps_device",
                          "throttleWriteBpsDevice"));
  BERTH_TRY(WriteThrottle(dir, io.throttle_read_iops, "blkio.throttle.read_iops_device",
                          "throttleReadIOPSDevice"));
  BERTH_TRY(WriteThrottle(dir, io.throttle_write_iops, "blkio.throttle.write_iops_device",
                          "throttleWriteIOPSDevice"));
  return Ok();
}

Status ReadBlkioStats(const std::string& dir, Stats* s) {
  for (const char* prefix : {"blkio.", "blkio.bfq.", "blkio.throttle."}) {
    std::string bytes = std::string(prefix) + "io_service_bytes_recursive";
    if (!KnobExists(dir, bytes)) continue;
    BERTH_TRY(ReadTable(dir, bytes, &s->io_service_bytes));
    BERTH_TRY(ReadTable(dir, std::string(prefix) + "io_serviced_recursive", &s->io_serviced));
    return Ok();
  }
  return Ok();
}

}  // namespace berth::cgroups::v1
