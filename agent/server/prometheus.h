#pragma once
// The Prometheus text exposition format (version 0.0.4), as kubelet's
// component-base metrics write it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::agent::kubelet {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

using Labels = std::vector<std::pair<std::string, std::string>>;

class PromText {
 public:
  // "# HELP" and "# TYPE" lines; `type` is counter, gauge or histogram.
  void Family(std::string_view name, std::string_view help, std::string_view type);
  void Sample(std::string_view name, const Labels& labels, double value,
              std::optional<int64_t> timestamp_millis = std::nullopt);
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

// Go's strconv.FormatFloat(v, 'g', -1, 64) with Prometheus' +Inf/-Inf/NaN.
std::string FormatPromValue(double v);

}  // namespace berth::agent::kubelet
