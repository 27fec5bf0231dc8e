#include "commands.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <vector>

namespace strata::cli {
namespace {

// Prints rows as left-aligned columns sized to their widest cell.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i)
      line += i + 1 < row.size() ? fmt::format("{:<{}}  ", row[i], widths[i]) : row[i];
    fmt::print("{}\n", line);
  }
}

}  // namespace

int list_plugins(const Host& host) {
  std::vector<std::vector<std::string>> rows{{"ROLE", "INSTANCE", "PLUGIN", "VERSION", "ABI", "PATH"}};
  for (const auto& i : host.instances())
    rows.push_back({std::string(sdk::to_string(i.role)), i.instance, i.plugin, i.version,
                    fmt::format("{}.{}", i.abi_major, i.abi_minor), i.path.string()});
  print_table(rows);
  return 0;
}

int check(const Host& host) {
  std::vector<std::vector<std::string>> rows;
  std::size_t failed = 0;
  auto reports = host.check();
  for (const auto& r : reports) {
    std::string name = std::string(sdk::to_string(r.instance.role));
    if (r.instance.role == sdk::Role::cache) name += "." + r.instance.instance;
    std::string outcome = r.status ? fmt::format("{:.1f} ms", r.latency.count() / 1000.0)
                                   : r.status.error().describe();
    failed += !r.status;
    rows.push_back({r.status ? "ok" : "FAIL", name, r.instance.plugin, outcome});
  }
  print_table(rows);
  if (failed) {
    fmt::print(stderr, "strata: check failed: {} of {} instances unhealthy\n", failed, reports.size());
    return 1;
  }
  fmt::print("all {} instances healthy\n", reports.size());
  return 0;
}

int print_config(const Host& host) {
  fmt::print("{}", host.effective_config());
  return 0;
}

}  // namespace strata::cli
