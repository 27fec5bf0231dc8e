#include "postgres_migrator.hpp"

#include <string>

#include "postgres_pool.hpp"
#include "postgres_seed_adoption.hpp"
#include "postgres_sql_script.hpp"

namespace strata::postgres {
namespace {

using sdk::ErrorCode;
using sdk::fail;

// pg_advisory_xact_lock key: "strata" as a number, the same in every process.
constexpr const char* lock_sql = "SELECT pg_advisory_xact_lock(7391149215237181441)";
// `baseline`: the migration's objects were found made by the seed's own SQL
// and adopted, not created by Strata (so they are never dropped by a down).
constexpr const char* table_sql =
    "CREATE TABLE IF NOT EXISTS strata_schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " applied_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now())";
constexpr const char* baseline_column_sql =
    "ALTER TABLE strata_schema_migrations ADD COLUMN IF NOT EXISTS baseline BOOLEAN NOT NULL DEFAULT false";

int latest() { return migrations().latest(); }
std::string label(const Migration& m) { return sdk::MigrationSet::label(m); }

sdk::Result<int> current_version(Connection& c) {
  auto exists = c.exec("SELECT to_regclass('strata_schema_migrations') IS NOT NULL");
  if (!exists) return sdk::fail(exists.error());
  if (std::string(PQgetvalue(exists->get(), 0, 0)) != "t") return 0;
  auto version = c.exec("SELECT COALESCE(MAX(version), 0) FROM strata_schema_migrations");
  if (!version) return sdk::fail(version.error());
  return std::stoi(PQgetvalue(version->get(), 0, 0));
}

// Versions recorded as adopted from the seed (a table made before the column: none).
sdk::Result<std::set<int>> baselines(Connection& c) {
  auto column = c.exec("SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema()"
                       " AND table_name = 'strata_schema_migrations' AND column_name = 'baseline'");
  if (!column) return sdk::fail(column.error());
  std::set<int> out;
  if (std::string(PQgetvalue(column->get(), 0, 0)) == "0") return out;
  auto rows = c.exec("SELECT version FROM strata_schema_migrations WHERE baseline");
  if (!rows) return sdk::fail(rows.error());
  for (int i = 0; i < PQntuples(rows->get()); ++i) out.insert(std::stoi(PQgetvalue(rows->get(), i, 0)));
  return out;
}

// Runs a migration's SQL statement by statement, so that a failure names the
// statement. A failure is the database's state disagreeing with the migration
// (`conflict`), unless the server went away.
sdk::Result<void> run_script(Connection& c, const Migration& m, bool up) {
  for (const auto& statement : split_sql(up ? m.up : m.down)) {
    auto r = c.exec(statement.text);
    if (r) continue;
    auto e = r.error();
    // Connection::exec prefixes an unclassified error with the SQL's first characters: the statement is named below.
    if (std::string prefix = statement.text.substr(0, 40) + ": "; e.message.starts_with(prefix))
      e.message.erase(0, prefix.size());
    if (e.code != ErrorCode::unavailable && e.code != ErrorCode::timeout) e.code = ErrorCode::conflict;
    e.message = "migration " + label(m) + (up ? " up" : " down") + " failed at line " + std::to_string(statement.line) +
                ", `" + statement.summary() + "`: " + e.message;
    return sdk::fail(e);
  }
  return {};
}

struct Plan {
  sdk::MigrationPlan summary;
  std::optional<SeedAdoption> adoption;  // when the seed's objects were found
};

// The steps from the current version to `target`, inside the caller's transaction.
sdk::Result<Plan> make_plan(Connection& c, int target) {
  Plan plan;
  auto current = current_version(c);
  if (!current) return sdk::fail(current.error());
  auto runs = migrations().steps(*current, target);
  if (!runs) return sdk::fail(runs.error());
  plan.summary.status = {*current, latest()};
  plan.summary.target = target;
  if (*current == 0 && target > 0) {
    auto seed = seed_objects_exist(c);
    if (!seed) return sdk::fail(seed.error());
    if (*seed) {
      auto adoption = inspect_seed(c);
      if (!adoption) return sdk::fail(adoption.error());
      plan.summary.differences = adoption->differences;
      plan.summary.notes = adoption->notes;
      plan.adoption = std::move(*adoption);
    }
  }
  auto adopted = [&](int version) -> const AdoptedMigration* {
    if (!plan.adoption) return nullptr;
    for (const auto& m : plan.adoption->migrations)
      if (m.migration->version == version) return &m;
    return nullptr;
  };
  auto adopted_before = baselines(c);
  if (!adopted_before) return sdk::fail(adopted_before.error());
  for (const auto& [m, up] : *runs) {
    if (up) {
      const auto* seed = adopted(m->version);
      plan.summary.steps.push_back({m->version, m->name, seed ? seed->action : "apply", seed ? seed->detail : ""});
      continue;
    }
    plan.summary.steps.push_back({m->version, m->name, "revert", ""});
    if (adopted_before->contains(m->version))
      plan.summary.differences.push_back(
          "migration " + label(*m) + " was adopted from the seed's own SQL (a baseline): reverting it would drop "
          "the seed's tables and data, which Strata did not create; stop at version " + std::to_string(m->version) +
          " (`strata migrate down` to it) and go back to the seed's tools from there");
  }
  return plan;
}

sdk::Error refusal(const sdk::MigrationPlan& plan) {
  std::string message = "migrating to version " + std::to_string(plan.target) + " is refused for " +
                        std::to_string(plan.differences.size()) + " reason" + (plan.differences.size() == 1 ? "" : "s") +
                        "; nothing was changed:";
  for (std::size_t i = 0; i < plan.differences.size(); ++i)
    message += (i ? "; (" : " (") + std::to_string(i + 1) + ") " + plan.differences[i];
  return sdk::Error{ErrorCode::conflict, std::move(message), {}, false};
}

}  // namespace

sdk::Result<sdk::SchemaStatus> schema_status(Connection& c) {
  auto current = current_version(c);
  if (!current) return sdk::fail(current.error());
  return sdk::SchemaStatus{*current, latest()};
}

sdk::Result<sdk::MigrationPlan> plan_migration(Connection& c, int target) {
  std::optional<Plan> plan;
  auto begun = c.exec("BEGIN");
  if (!begun) return sdk::fail(begun.error());
  auto made = make_plan(c, target);
  auto ended = c.exec("ROLLBACK");
  if (!made) return sdk::fail(made.error());
  if (!ended) return sdk::fail(ended.error());
  return std::move(made->summary);
}

sdk::Result<sdk::SchemaStatus> migrate_to(Connection& c, int target) {
  int reached = 0;
  auto done = in_transaction(c, [&]() -> sdk::Result<void> {
    // Under the lock, the plan sees what a migrator that held it before did:
    // a second process adopting at once finds the baseline recorded.
    for (const char* sql : {lock_sql, table_sql, baseline_column_sql})
      if (auto ok = c.exec(sql); !ok) return sdk::fail(ok.error());
    auto plan = make_plan(c, target);
    if (!plan) return sdk::fail(plan.error());
    if (!plan->summary.differences.empty()) return sdk::fail(refusal(plan->summary));
    reached = plan->summary.status.current;
    for (const auto& step : plan->summary.steps) {
      const Migration* m = migrations().find(step.version);
      if (step.action == "revert") {
        if (auto ok = run_script(c, *m, false); !ok) return ok;
        if (auto ok = c.exec("DELETE FROM strata_schema_migrations WHERE version = $1", {std::to_string(m->version)}); !ok)
          return sdk::fail(ok.error());
        reached = m->version - 1;
        continue;
      }
      if (step.action == "apply") {
        if (auto ok = run_script(c, *m, true); !ok) return ok;
      } else if (step.action == "complete") {
        for (const auto& adopted : plan->adoption->migrations)
          if (adopted.migration == m)
            if (auto ok = complete_migration(c, adopted); !ok) return ok;
      }
      if (auto ok = c.exec("INSERT INTO strata_schema_migrations (version, name, baseline) VALUES ($1, $2, $3)",
                           {std::to_string(m->version), std::string(m->name), step.action == "apply" ? "false" : "true"});
          !ok)
        return sdk::fail(ok.error());
      reached = m->version;
    }
    return {};
  });
  if (!done) return sdk::fail(done.error());
  return sdk::SchemaStatus{reached, latest()};
}

}  // namespace strata::postgres
