#pragma once
// How a subcommand joins the `strata` CLI: each command file adds its CLI11
// subcommands, with their options, and the action that runs when one of
// them is the subcommand given. main.cpp only opens the host and runs it.

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "strata/host.hpp"

namespace strata::cli {

/// What a chosen subcommand runs, on the opened host; `notes` are the info
/// lines its plugins logged while opening (`strata check` prints them).
/// Returns the process exit code.
using Action = std::function<int(const Host& host, const std::vector<std::string>& notes)>;

class Registry {
 public:
  explicit Registry(CLI::App& app) : app_(app) {}
  CLI::App& app() { return app_; }

  /// The subcommand `name` of `parent`, made (with `description`) the first
  /// time a command file asks for it: `audit` holds commands of two files.
  CLI::App* group(CLI::App& parent, const std::string& name, const std::string& description) {
    auto same_name = [&](CLI::App* sub) { return sub->get_name() == name; };
    if (auto existing = parent.get_subcommands(same_name); !existing.empty()) return existing.front();
    auto* made = parent.add_subcommand(name, description);
    made->require_subcommand(1);
    return made;
  }

  /// `sub` runs `action` when it is the subcommand given.
  void on(CLI::App* sub, Action action) { actions_.push_back({sub, std::move(action)}); }

  /// The action of the subcommand given: the last registered one that was
  /// parsed, since a child (`backup verify`) is registered after its parent.
  const Action* chosen() const {
    for (auto it = actions_.rbegin(); it != actions_.rend(); ++it)
      if (it->sub->parsed()) return &it->action;
    return nullptr;
  }

 private:
  struct Entry {
    CLI::App* sub;
    Action action;
  };
  CLI::App& app_;
  std::vector<Entry> actions_;
};

/// commands.cpp: plugins, check, config, migrate, cleanup, adopt messages.
void add_host_commands(Registry& registry);
/// service_commands.cpp: user add|show, send, inbox, read, metrics, keys rotate|rewrap.
void add_service_commands(Registry& registry);
/// watch_command.cpp: watch.
void add_watch_command(Registry& registry);
/// audit_commands.cpp: audit tail|verify|prove|consistency|checkpoint|key.
void add_audit_commands(Registry& registry);
/// backup_commands.cpp: backup, backup verify, restore.
void add_backup_commands(Registry& registry);
/// erase_command.cpp: user erase.
void add_erase_command(Registry& registry);
/// demo.cpp: demo.
void add_demo_command(Registry& registry);

}  // namespace strata::cli
