// io on cgroup v2 (runc's fs2 mapping of OCI blockIO):
//   weight                 -> io.bfq.weight as is when BFQ is in use, else
//                             io.weight (BlkioWeightToIoWeight)
//   weightDevice[].weight  -> the same files, "<major>:<minor> <weight>"
//   throttle*Device        -> io.max "<major>:<minor> rbps|wbps|riops|wiops=<rate>"
// leafWeight has no v2 knob and is ignored with a log line.

#include "cgroups/cgroupfs.h"
#include "cgroups/v2/controllers.h"
#include "common/log.h"

namespace berth::cgroups::v2 {

namespace {

std::string F(const std::string& name) {
  return std::string(kField) + "blockIO." + name;
}

std::string Dev(int64_t major, int64_t minor) {
  return std::to_string(major) + ":" + std::to_string(minor);
}

// BFQ takes the v1 range (10-1000) as is; io.weight wants 1-10000.
Status WriteWeight(const Target& t, const std::string& device, uint16_t weight,
                   const std::string& field) {
  std::string prefix = device.empty() ? "" : device + " ";
  if (KnobExists(t.dir, "io.bfq.weight")) {
    BERTH_TRY_CTX(WriteKnob(t.dir, "io.bfq.weight", prefix + std::to_string(weight)), F(field));
    return Ok();
  }
  std::string value = prefix + std::to_string(BlkioWeightToIoWeight(weight));
  BERTH_TRY_CTX(WriteKnob(t.dir, "io.weight", value), F(field));
  return Ok();
}

Status WriteThrottle(const Target& t, const std::vector<ThrottleDevice>& devices, const char* key,
                     const char* field) {
  for (const ThrottleDevice& d : devices) {
    std::string value = Dev(d.major, d.minor) + " " + key + "=" + std::to_string(d.rate);
    BERTH_TRY_CTX(WriteKnob(t.dir, "io.max", value), F(field));
  }
  return Ok();
}

bool IsSet(const BlockIo& io) {
  return io.weight.value_or(0) != 0 || !io.weight_device.empty() || !io.throttle_read_bps.empty() ||
         !io.throttle_write_bps.empty() || !io.throttle_read_iops.empty() ||
         !io.throttle_write_iops.empty();
}

}  // namespace

Status ApplyIo(const Target& t, const BlockIo& io) {
  if (io.leaf_weight) {
    BLOG(kWarn) << "cgroup v2 has no leaf weight; ignoring " << F("leafWeight");
  }
  if (!IsSet(io)) return Ok();
  BERTH_TRY(t.Require("blockIO", "io"));
  if (io.weight.value_or(0) != 0) BERTH_TRY(WriteWeight(t, "", *io.weight, "weight"));
  for (size_t i = 0; i < io.weight_device.size(); ++i) {
    const WeightDevice& d = io.weight_device[i];
    std::string field = "weightDevice[" + std::to_string(i) + "].weight";
    if (d.weight) BERTH_TRY(WriteWeight(t, Dev(d.major, d.minor), *d.weight, field));
  }
  BERTH_TRY(WriteThrottle(t, io.throttle_read_bps, "rbps", "throttleReadBpsDevice"));
  BERTH_TRY(WriteThrottle(t, io.throttle_write_bps, "wbps", "throttleWriteBpsDevice"));
  BERTH_TRY(WriteThrottle(t, io.throttle_read_iops, "riops", "throttleReadIOPSDevice"));
  BERTH_TRY(WriteThrottle(t, io.throttle_write_iops, "wiops", "throttleWriteIOPSDevice"));
  return Ok();
}

}  // namespace berth::cgroups::v2
