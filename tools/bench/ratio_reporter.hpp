#pragma once
// Runs the registered benchmarks, then prints how Strata compares with the
// reference measured in the same run: one ratio line per pair.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace strata::bench {

/// One comparison: `strata` and `reference` are benchmark names as printed.
struct Ratio {
  std::string label;
  std::string strata;
  std::string reference;
};

/// Console output as usual, plus the real time of every run by name.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs)
      if (run.run_type == Run::RT_Iteration || run.aggregate_name == "median")
        times_[run.run_name.str()] = run.GetAdjustedRealTime() * multiplier(run.time_unit);
    ConsoleReporter::ReportRuns(runs);
  }

  /// Prints "label: strata X ns, reference Y ns, ratio Y/X" (above 1.0: Strata is faster).
  void print(const std::vector<Ratio>& ratios) const {
    std::printf("\n%-44s %14s %14s %8s\n", "comparison (ratio = reference/strata)", "strata", "reference", "ratio");
    for (const auto& r : ratios) {
      auto s = times_.find(r.strata), ref = times_.find(r.reference);
      if (s == times_.end() || ref == times_.end()) {
        std::printf("%-44s (not run)\n", r.label.c_str());
        continue;
      }
      std::printf("%-44s %11.1f ns %11.1f ns %7.2fx\n", r.label.c_str(), s->second, ref->second,
                  ref->second / s->second);
    }
  }

  /// The real time of a benchmark in nanoseconds, or a negative number if it did not run.
  double nanoseconds(const std::string& name) const {
    auto it = times_.find(name);
    return it == times_.end() ? -1 : it->second;
  }

 private:
  static double multiplier(benchmark::TimeUnit unit) {
    switch (unit) {
      case benchmark::kSecond: return 1e9;
      case benchmark::kMillisecond: return 1e6;
      case benchmark::kMicrosecond: return 1e3;
      default: return 1;
    }
  }
  std::map<std::string, double> times_;
};

/// main() for a benchmark program that ends with its ratio table.
inline int run_with_ratios(int argc, char** argv, const std::vector<Ratio>& ratios) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print(ratios);
  benchmark::Shutdown();
  return 0;
}

}  // namespace strata::bench
