// `strata`: the operator's command line. Each command file registers its
// subcommands and what they run (command_registry.hpp); this file opens the
// host the chosen one needs and turns the outcome into the exit code.

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <exception>

#include "command_registry.hpp"
#include "open_host.hpp"

int main(int argc, char** argv) {
  CLI::App app{"strata: the Strata plugin host's command line"};
  app.set_version_flag("--version", STRATA_SDK_VERSION);
  std::string config_path;
  app.add_option("-c,--config", config_path,
                 "config file (default: $STRATA_CONFIG, else the built-in embedded config)");
  app.require_subcommand(1);
  namespace cli = strata::cli;
  cli::Registry registry(app);
  cli::add_host_commands(registry);
  cli::add_service_commands(registry);
  cli::add_erase_command(registry);
  cli::add_watch_command(registry);
  cli::add_audit_commands(registry);
  cli::add_demo_command(registry);
  cli::add_backup_commands(registry);
  CLI11_PARSE(app, argc, argv);

  try {
    std::vector<std::string> notes;  // outlives the host, whose logger fills it
    auto host = cli::open_host(config_path, &notes);
    if (!host) {
      fmt::print(stderr, "strata: error: {}\n", host.error().message);
      return 1;
    }
    const cli::Action* action = registry.chosen();
    int rc = action ? (*action)(**host, notes) : 0;
    // Under [audit] on_failure = "spool", an event the sink and the spool
    // both refused is gone: the command did its work, but must not say it
    // succeeded (the loss was logged above as "LOST n audit events").
    if (auto lost = cli::audit_events_lost(**host); lost > 0) {
      fmt::print(stderr, "strata: error: {} audit event(s) of this command were lost: the audit sink and its spool "
                         "file both refused them\n", lost);
      return rc != 0 ? rc : 1;
    }
    return rc;
  } catch (const std::exception& e) {
    // Nothing should throw this far; if it does, one sentence, no stack trace.
    fmt::print(stderr, "strata: internal error: {}\n", e.what());
    return 1;
  }
}
