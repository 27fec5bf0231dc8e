#include "output.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace strata::cli {

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

int report_error(const sdk::Error& error) {
  fmt::print(stderr, "strata: error: {}\n", printable(error.describe()));
  return 1;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out;
}

std::string gauge_line(const sdk::Metric& gauge) {
  std::string labels;
  for (const auto& [key, value] : gauge.labels)
    labels += (labels.empty() ? "" : ",") + key + "=\"" + printable(value) + "\"";
  return fmt::format("{}{} {}", gauge.name, labels.empty() ? "" : "{" + labels + "}", gauge.value);
}

}  // namespace strata::cli
