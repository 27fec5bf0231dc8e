#include "commands.hpp"

#include "open_host.hpp"
#include "output.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <vector>

namespace strata::cli {

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
    fmt::print(stderr, "strata: check failed: {} of {} instances unhealthy\n", failed, reports.size());
    return 1;
  }
  fmt::print("all {} instances healthy\n", reports.size());
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

int migrate(const Host& host, const std::string& direction, std::optional<int> steps) {
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
  int target = direction == "up" ? std::min(status->latest, status->current + steps.value_or(status->latest))
                                 : std::max(0, status->current - steps.value_or(1));
  auto moved = storage->migrate(target);
  if (!moved) return report_error(moved.error());
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

}  // namespace strata::cli
