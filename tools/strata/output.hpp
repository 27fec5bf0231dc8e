#pragma once
// How the CLI prints: aligned tables, errors, and text from the data
// (usernames, messages) made safe for a terminal.

#include <string>
#include <string_view>
#include <vector>

#include "strata/sdk/audit.hpp"
#include "strata/sdk/error.hpp"

namespace strata::cli {

/// Prints rows as left-aligned columns sized to their widest cell.
void print_table(const std::vector<std::vector<std::string>>& rows);

/// "strata: error: <description>" on stderr; returns exit code 1.
int report_error(const sdk::Error& error);

/// `text` with control characters (escape sequences, newlines, NULs) shown as
/// \xNN, so stored data cannot drive the operator's terminal.
std::string printable(std::string_view text);

/// A gauge as a Prometheus sample line: `name{label="value",...} value`.
std::string gauge_line(const sdk::Metric& gauge);

}  // namespace strata::cli
