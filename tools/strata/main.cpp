// `strata`: the operator's command line.

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <exception>

#include "commands.hpp"
#include "open_host.hpp"

int main(int argc, char** argv) {
  CLI::App app{"strata: the Strata plugin host's command line"};
  app.set_version_flag("--version", STRATA_SDK_VERSION);
  std::string config_path;
  app.add_option("-c,--config", config_path,
                 "config file (default: $STRATA_CONFIG, else the built-in embedded config)");
  app.require_subcommand(1);
  auto* plugins = app.add_subcommand("plugins", "List running plugins: role, instance, plugin, version, ABI, path");
  auto* check = app.add_subcommand("check", "Load every plugin and run its health check (exit 1 on failure)");
  auto* config = app.add_subcommand("config", "Print the effective config with secrets redacted");
  auto* migrate = app.add_subcommand("migrate", "Move the storage schema: up [N] (default: all), down [N] (default: 1), status");
  std::string direction;
  std::optional<int> steps;
  migrate->add_option("direction", direction, "up, down or status")
      ->required()
      ->check(CLI::IsMember({"up", "down", "status"}));
  migrate->add_option("steps", steps, "how many versions to move");
  auto* cleanup = app.add_subcommand("cleanup", "Purge expired messages now");
  CLI11_PARSE(app, argc, argv);

  try {
    auto host = strata::cli::open_host(config_path);
    if (!host) {
      fmt::print(stderr, "strata: error: {}\n", host.error().message);
      return 1;
    }
    if (*plugins) return strata::cli::list_plugins(**host);
    if (*check) return strata::cli::check(**host);
    if (*config) return strata::cli::print_config(**host);
    if (*migrate) return strata::cli::migrate(**host, direction, steps);
    if (*cleanup) return strata::cli::cleanup(**host);
  } catch (const std::exception& e) {
    // Nothing should throw this far; if it does, one sentence, no stack trace.
    fmt::print(stderr, "strata: internal error: {}\n", e.what());
    return 1;
  }
  return 0;
}
