#pragma once
// The p-th percentile (0..1) of latency samples, nearest rank.

#include <algorithm>
#include <cstddef>
#include <vector>

namespace strata::bench {

inline double percentile(std::vector<double> samples, double p) {
  std::sort(samples.begin(), samples.end());
  return samples[static_cast<std::size_t>(p * static_cast<double>(samples.size() - 1))];
}

}  // namespace strata::bench
