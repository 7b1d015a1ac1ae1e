#pragma once
// Summary statistics the benches print.

#include <algorithm>
#include <cmath>
#include <vector>

namespace berth::bench {

// The p-quantile (0..1) by nearest rank; 0 for no samples.
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::lround(p * static_cast<double>(v.size() - 1)));
  return v[i];
}

inline double Mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v)
    sum += x;
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

}  // namespace berth::bench
