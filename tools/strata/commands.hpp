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
/// `strata migrate up|down|status|plan [N] [--dry-run]`: moves the storage schema N steps (up and plan: all by
/// default, down: 1). A database the seed's own SQL made is adopted (a baseline, audited) or refused with
/// every difference; `plan` and `--dry-run` print what would happen and change nothing.
int migrate(const Host& host, const std::string& direction, std::optional<int> steps, bool dry_run);
/// `strata cleanup [--dry-run]`: purges expired messages now (or only counts
/// them) and prints how many.
int cleanup(const Host& host, bool dry_run);

}  // namespace strata::cli
