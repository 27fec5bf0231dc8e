#include "commands.hpp"

#include "command_registry.hpp"
#include "open_host.hpp"
#include "output.hpp"
#include "service_commands.hpp"

#include <nlohmann/json.hpp>
#include "strata/services.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <vector>

namespace strata::cli {
namespace {

// "1 instance", "5 instances".
std::string instances(std::size_t n) { return fmt::format("{} instance{}", n, n == 1 ? "" : "s"); }

}  // namespace

int list_plugins(const Host& host) {
  std::vector<std::vector<std::string>> rows{{"ROLE", "INSTANCE", "PLUGIN", "VERSION", "ABI", "PATH"}};
  for (const auto& i : host.instances())
    rows.push_back({std::string(sdk::to_string(i.role)), i.instance, i.plugin, i.version,
                    fmt::format("{}.{}", i.abi_major, i.abi_minor), i.path.string()});
  print_table(rows);
  return 0;
}

int check(const Host& host, const std::vector<std::string>& notes) {
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
  // Audit events waiting in the storage's outbox (a killed process's, or the
  // sink's while it was down): durable, but not in the trail yet.
  if (auto storage = host.storage(); storage && failed == 0) {
    auto waiting = storage->outbox_size();
    if (waiting && *waiting > 0) {
      auto oldest = storage->outbox_oldest();
      std::string age = oldest && *oldest ? fmt::format(", the oldest {:.1f} s old",
                                                       (sdk::Timestamp::now().micros() - (*oldest)->micros()) / 1e6)
                                          : "";
      rows.push_back({"WAIT", "audit outbox", "",
                      fmt::format("{} event{} not yet in the audit trail{}: the next process that opens the audit "
                                  "pipeline relays them (e.g. `strata audit tail`)",
                                  *waiting, *waiting == 1 ? "" : "s", age)});
    }
  }
  // A restore cut off midway leaves instances that disagree while each is healthy.
  auto unfinished = unfinished_restore(host);
  if (unfinished) rows.push_back({"FAIL", "restore", "", *unfinished});
  print_table(rows);
  for (const auto& note : notes) fmt::print("{}\n", note);
  // What the plugins measure of themselves (a postgres plugin's read
  // replicas, a redis plugin's Sentinel topology).
  if (failed == 0)
    for (const auto& r : reports) {
      sdk::Result<std::vector<sdk::Metric>> gauges = std::vector<sdk::Metric>{};
      if (r.instance.role == sdk::Role::storage) gauges = host.storage()->gauges();
      if (r.instance.role == sdk::Role::cache) gauges = host.cache(r.instance.instance)->gauges();
      if (!gauges || gauges->empty()) continue;
      fmt::print("{}{}:\n", sdk::to_string(r.instance.role),
                 r.instance.role == sdk::Role::cache ? "." + r.instance.instance : std::string());
      for (const auto& g : *gauges) fmt::print("  {}\n", gauge_line(g));
    }
  if (failed) {
    fmt::print(stderr, "strata: check failed: {} of {} unhealthy\n", failed, instances(reports.size()));
    return 1;
  }
  if (unfinished) {
    fmt::print(stderr, "strata: check failed: {}\n", *unfinished);
    return 1;
  }
  if (reports.size() == 1) fmt::print("the 1 instance is healthy\n");
  else fmt::print("all {} healthy\n", instances(reports.size()));
  return 0;
}

namespace {

// The storage instance, or a one-line error.
std::shared_ptr<sdk::Storage> require_storage(const Host& host) {
  auto storage = host.storage();
  if (!storage) fmt::print(stderr, "strata: error: the config has no [storage] table\n");
  return storage;
}

}  // namespace

namespace {

// The plan of a migration, one line per step, then what was found.
void print_plan(const sdk::MigrationPlan& plan) {
  for (const auto& step : plan.steps)
    fmt::print("  {:>3}_{:<14} {:<9} {}\n", step.version, step.name, step.action, printable(step.detail));
  for (const auto& note : plan.notes) fmt::print("  note: {}\n", printable(note));
  if (!plan.differences.empty()) {
    fmt::print(stderr, "strata: error: migrating to version {} is refused for {} reason{}; nothing was changed:\n",
               plan.target, plan.differences.size(), plan.differences.size() == 1 ? "" : "s");
    for (const auto& line : plan.differences) fmt::print(stderr, "  - {}\n", printable(line));
  }
}

// What a storage without plan_migration (memory, SQLite) would do: each version in turn.
sdk::MigrationPlan simple_plan(const sdk::SchemaStatus& status, int target) {
  sdk::MigrationPlan plan{status, target, {}, {}, {}};
  for (int v = status.current + 1; v <= target; ++v) plan.steps.push_back({v, "", "apply", ""});
  for (int v = status.current; v > target; --v) plan.steps.push_back({v, "", "revert", ""});
  return plan;
}

// The migrations adopted from the seed's own SQL rather than run, as "1_initial, 2_performance".
std::string adopted_steps(const sdk::MigrationPlan& plan) {
  std::string out;
  for (const auto& step : plan.steps)
    if (step.action == "baseline" || step.action == "complete")
      out += (out.empty() ? "" : ", ") + fmt::format("{}_{}", step.version, step.name);
  return out;
}

}  // namespace

int migrate(const Host& host, const std::string& direction, std::optional<int> steps, bool dry_run) {
  auto storage = require_storage(host);
  if (!storage) return 1;
  auto status = storage->schema_status();
  if (!status) return report_error(status.error());
  if (direction == "status") {
    fmt::print("schema version {} of {}{}\n", status->current, status->latest,
               status->current == status->latest ? " (up to date)" : " (run `strata migrate up`)");
    return 0;
  }
  if (steps && *steps < 0) {
    fmt::print(stderr, "strata: error: the number of steps must not be negative\n");
    return 1;
  }
  int target = direction != "down" ? std::min(status->latest, status->current + steps.value_or(status->latest))
                                   : std::max(0, status->current - steps.value_or(1));
  auto plan = storage->plan_migration(target);
  if (!plan && plan.error().code == sdk::ErrorCode::unsupported) plan = simple_plan(*status, target);
  if (!plan) return report_error(plan.error());
  if (direction == "plan" || dry_run) {
    fmt::print("schema version {} -> {} (newest {}){}\n", status->current, target, status->latest,
               plan->steps.empty() ? ": nothing to do" : "; dry run, nothing changed:");
    print_plan(*plan);
    return plan->differences.empty() ? 0 : 1;
  }
  if (!plan->differences.empty()) {
    print_plan(*plan);
    return 1;
  }
  const std::string adopted = adopted_steps(*plan);
  auto moved = storage->migrate(target);
  if (!moved) return report_error(moved.error());
  if (!adopted.empty()) {
    // The one line an operator needs, and the same in the audit trail.
    fmt::print("adopted the seed's schema: {} recorded as applied (found identical to the seed's SQL)\n", adopted);
    for (const auto& note : plan->notes) fmt::print("  note: {}\n", printable(note));
    auto services = open_services(host);
    if (!services) return 1;
    nlohmann::json notes(plan->notes);
    auto recorded = services->audit().record(
        AuditRecord{std::nullopt, "schema.adopt", "schema", sdk::AuditStatus::success,
                    {{"baseline", adopted}, {"from", status->current}, {"to", moved->current}, {"notes", notes}}},
        Origin{});
    if (!recorded) return report_error(recorded.error());
  }
  fmt::print("schema version {} -> {} (newest {})\n", status->current, moved->current, moved->latest);
  return 0;
}

int cleanup(const Host& host, bool dry_run) {
  // Through the scheduler's own purge: the host's clock, and an audit event.
  auto services = open_services(host);
  if (!services) return 1;
  if (dry_run) {
    auto expired = services->maintenance().count_expired();
    if (!expired) return report_error(expired.error());
    fmt::print("would purge {} expired message{} (dry run: nothing deleted)\n", *expired, *expired == 1 ? "" : "s");
    return 0;
  }
  auto purged = services->maintenance().purge_expired(Origin{});
  if (!purged) return report_error(purged.error());
  fmt::print("purged {} expired message{}\n", *purged, *purged == 1 ? "" : "s");
  return 0;
}

int print_config(const Host& host) {
  fmt::print("{}", host.effective_config());
  return 0;
}

void add_host_commands(Registry& registry) {
  auto& app = registry.app();
  registry.on(app.add_subcommand("plugins", "List running plugins: role, instance, plugin, version, ABI, path"),
              [](const Host& host, const auto&) { return list_plugins(host); });
  registry.on(app.add_subcommand("check", "Load every plugin and run its health check (exit 1 on failure)"),
              [](const Host& host, const auto& notes) { return check(host, notes); });
  registry.on(app.add_subcommand("config", "Print the effective config with secrets redacted"),
              [](const Host& host, const auto&) { return print_config(host); });

  struct MigrateOptions {
    std::string direction;
    std::optional<int> steps;
    bool dry_run = false;
  };
  auto m = std::make_shared<MigrateOptions>();
  auto* migrate_command = app.add_subcommand(
      "migrate", "Move the storage schema: up [N] (default: all; adopts a database the seed's SQL made), down [N] "
                 "(default: 1), status, plan [N] (what up would do)");
  migrate_command->add_option("direction", m->direction, "up, down, status or plan")
      ->required()
      ->check(CLI::IsMember({"up", "down", "status", "plan"}));
  migrate_command->add_option("steps", m->steps, "how many versions to move");
  migrate_command->add_flag("--dry-run", m->dry_run, "print the plan (steps, the seed's objects found), change nothing");
  registry.on(migrate_command,
              [m](const Host& host, const auto&) { return migrate(host, m->direction, m->steps, m->dry_run); });

  struct AdoptOptions {
    bool accept_unauthenticated = false;
    std::size_t batch = 500;
  };
  auto a = std::make_shared<AdoptOptions>();
  auto* adopt = registry.group(app, "adopt", "Take over data the seed's services wrote");
  auto* adopt_command = adopt->add_subcommand(
      "messages", "Re-seal the seed's tagless messages in Strata's envelope (resumable; each row once)");
  adopt_command->add_flag("--accept-unauthenticated", a->accept_unauthenticated,
                          "required: the seed stored no GCM tag, so their content is trusted as it is");
  adopt_command->add_option("--batch", a->batch, "rows per batch (one transaction each)")->check(CLI::Range(1, 1000));
  registry.on(adopt_command,
              [a](const Host& host, const auto&) { return adopt_messages(host, a->accept_unauthenticated, a->batch); });

  auto dry_run = std::make_shared<bool>(false);
  auto* cleanup_command =
      app.add_subcommand("cleanup", "Purge expired messages now (in batches; see the storage's purge.* keys)");
  cleanup_command->add_flag("--dry-run", *dry_run, "only count what would be purged");
  registry.on(cleanup_command, [dry_run](const Host& host, const auto&) { return cleanup(host, *dry_run); });
}

}  // namespace strata::cli
