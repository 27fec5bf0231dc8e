#pragma once
// The CLI's subcommands. Each returns the process exit code.

#include <optional>
#include <string>
#include <vector>

#include "strata/host.hpp"

namespace strata::cli {

/// `strata plugins`: role, instance, plugin, version, ABI and path of each instance.
int list_plugins(const Host& host);
/// `strata check`: every instance's health; 0 when all are healthy, 1 otherwise.
int check(const Host& host, const std::vector<std::string>& notes);
/// `strata config`: the effective config, secrets redacted.
int print_config(const Host& host);
/// `strata migrate up|down|status [N]`: moves the storage schema N steps (up: all by default, down: 1).
int migrate(const Host& host, const std::string& direction, std::optional<int> steps);
/// `strata cleanup [--dry-run]`: purges expired messages now (or only counts
/// them) and prints how many.
int cleanup(const Host& host, bool dry_run);

}  // namespace strata::cli
