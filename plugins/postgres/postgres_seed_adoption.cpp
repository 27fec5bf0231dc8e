#include "postgres_seed_adoption.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "postgres_catalog.hpp"
#include "postgres_sql_script.hpp"

namespace strata::postgres {
namespace {

using sdk::ErrorCode;
using sdk::fail;

// Strata's migrations that restate the seed's SQL: 1 = schema.sql, 2 = indexes.sql.
constexpr int last_seed_migration = 2;
const char* seed_file(int version) { return version == 1 ? "schema.sql" : "indexes.sql"; }

std::string kind_of(const std::string& object) { return object.substr(0, object.find(' ')); }
std::string name_of(const std::string& object) { return object.substr(object.find(' ') + 1); }

// The objects a migration's statements create, extensions left out (they are
// created IF NOT EXISTS and are not the seed's own).
std::vector<std::string> objects_of(const Migration& m) {
  std::vector<std::string> out;
  for (const auto& statement : split_sql(m.up))
    if (auto object = statement.creates(); !object.empty() && kind_of(object) != "extension") out.push_back(object);
  return out;
}

std::vector<const Migration*> seed_migrations() {
  std::vector<const Migration*> out;
  for (const auto& m : migrations())
    if (m.version <= last_seed_migration) out.push_back(&m);
  return out;
}

// Every table and function the seed's migrations create.
std::pair<std::vector<std::string>, std::vector<std::string>> seed_names() {
  std::vector<std::string> tables, functions;
  for (const auto* m : seed_migrations())
    for (const auto& object : objects_of(*m)) {
      if (kind_of(object) == "table") tables.push_back(name_of(object));
      if (kind_of(object) == "function") functions.push_back(name_of(object));
    }
  return {tables, functions};
}

std::string collapse_space(const std::string& text) {
  std::string out;
  bool gap = false;
  for (char ch : text) {
    if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
      gap = !out.empty();
      continue;
    }
    if (gap) out += ' ';
    gap = false;
    out += ch;
  }
  return out;
}

std::string describe(const CatalogColumn& column) {
  std::string out = column.type + (column.not_null ? " NOT NULL" : "");
  if (!column.default_expr.empty()) out += " DEFAULT " + column.default_expr;
  return out;
}

// The table on which an index lives, in a catalog; nullptr when no table has it.
const CatalogTable* table_with_index(const Catalog& catalog, const std::string& index, std::string* table_name = nullptr) {
  for (const auto& [name, table] : catalog.tables)
    if (table.indexes.contains(index)) {
      if (table_name) *table_name = name;
      return &table;
    }
  return nullptr;
}

bool exists(const Catalog& catalog, const std::string& object) {
  std::string kind = kind_of(object), name = name_of(object);
  if (kind == "table") return catalog.tables.contains(name);
  if (kind == "function") return catalog.functions.contains(name);
  if (kind == "index") return table_with_index(catalog, name) != nullptr;
  return false;
}

class Comparison {
 public:
  Comparison(const Catalog& seed, const Catalog& found, std::set<std::string> index_objects, SeedAdoption& out)
      : seed_(seed), found_(found), index_objects_(std::move(index_objects)), out_(out) {}

  // Columns, constraints, its own indexes (primary key, unique) and anything extra.
  void table(const std::string& name) {
    const auto& want = seed_.tables.at(name);
    const auto& have = found_.tables.at(name);
    for (const auto& column : want.column_order) {
      const auto& w = want.columns.at(column);
      auto h = have.columns.find(column);
      std::string what = "column " + name + "." + column;
      if (h == have.columns.end()) {
        differ(what + ": the seed has " + describe(w) + "; not found");
        continue;
      }
      if (w.type != h->second.type) differ(what + ": the seed has type " + w.type + ", found " + h->second.type);
      if (w.not_null != h->second.not_null)
        differ(what + ": the seed has it " + (w.not_null ? "NOT NULL" : "nullable") + ", found " +
               (h->second.not_null ? "NOT NULL" : "nullable"));
      if (w.default_expr != h->second.default_expr)
        differ(what + ": the seed's default is " + or_none(w.default_expr) + ", found " + or_none(h->second.default_expr));
    }
    for (const auto& column : have.column_order) {
      if (want.columns.contains(column)) continue;
      const auto& h = have.columns.at(column);
      std::string what = "column " + name + "." + column + " (" + describe(h) + ")";
      if (h.not_null && h.default_expr.empty())
        differ(what + ": not in the seed, and NOT NULL without a default: Strata's inserts would fail");
      else
        note(what + ": not in the seed; kept, and left to its default by Strata's writes");
    }
    for (const auto& [constraint, definition] : want.constraints) {
      auto h = have.constraints.find(constraint);
      if (h == have.constraints.end()) {
        if (!has_definition(have.constraints, definition))
          differ("constraint " + constraint + " on " + name + ": the seed has " + definition + "; not found");
      } else if (h->second != definition) {
        differ("constraint " + constraint + " on " + name + ": the seed has " + definition + ", found " + h->second);
      }
    }
    for (const auto& [constraint, definition] : have.constraints)
      if (!want.constraints.contains(constraint) && !has_definition(want.constraints, definition))
        differ("constraint " + constraint + " on " + name + " (" + definition +
               "): not in the seed; Strata's writes could be refused by it");
    for (const auto& [index, definition] : want.indexes) {
      if (index_objects_.contains(index)) continue;  // compared as objects of their own
      auto h = have.indexes.find(index);
      if (h == have.indexes.end()) differ("index " + index + ": the seed has " + definition + "; not found");
      else if (h->second != definition) differ("index " + index + ": the seed has " + definition + ", found " + h->second);
    }
    for (const auto& [index, definition] : have.indexes) {
      if (want.indexes.contains(index) || index_objects_.contains(index)) continue;
      if (have.unique_indexes.contains(index))
        differ("index " + index + " (" + definition + "): not in the seed, and unique: Strata's writes could be refused by it");
      else
        note("index " + index + " (" + definition + "): not in the seed; kept");
    }
    for (const auto& trigger : have.triggers)
      if (!want.triggers.contains(trigger))
        note("trigger " + trigger + " on " + name + ": not in the seed; kept, and it runs on Strata's writes too");
  }

  void index(const std::string& name) {
    std::string want_table, have_table;
    const auto* want = table_with_index(seed_, name, &want_table);
    const auto* have = table_with_index(found_, name, &have_table);
    const auto& w = want->indexes.at(name);
    const auto& h = have->indexes.at(name);
    if (w != h) differ("index " + name + ": the seed has " + w + ", found " + h);
  }

  void function(const std::string& name) {
    const auto& w = seed_.functions.at(name);
    const auto& h = found_.functions.at(name);
    std::string what = "function " + name + "(" + w.arguments + ")";
    if (w.arguments != h.arguments || w.result != h.result || w.language != h.language)
      differ(what + ": the seed has RETURNS " + w.result + " LANGUAGE " + w.language + ", found (" + h.arguments +
             ") RETURNS " + h.result + " LANGUAGE " + h.language);
    else if (collapse_space(w.body) != collapse_space(h.body))
      differ(what + ": its body differs from the seed's: found `" + collapse_space(h.body) + "`");
  }

  void object(const std::string& object) {
    std::string kind = kind_of(object), name = name_of(object);
    if (kind == "table") table(name);
    if (kind == "index") index(name);
    if (kind == "function") function(name);
  }

  void differ(std::string line) { out_.differences.push_back(std::move(line)); }
  void note(std::string line) { out_.notes.push_back(std::move(line)); }

 private:
  static std::string or_none(const std::string& text) { return text.empty() ? "none" : text; }
  static bool has_definition(const std::map<std::string, std::string>& constraints, const std::string& definition) {
    return std::any_of(constraints.begin(), constraints.end(), [&](const auto& c) { return c.second == definition; });
  }

  const Catalog& seed_;
  const Catalog& found_;
  std::set<std::string> index_objects_;
  SeedAdoption& out_;
};

std::string first_value(const PgResult& r) { return PQntuples(r.get()) ? PQgetvalue(r.get(), 0, 0) : ""; }

// Whether the seed's TypeORM migration ran here: its own `migrations` table
// (id, timestamp, name) records InitialMigration<timestamp>.
sdk::Result<bool> typeorm_initial_ran(Connection& c) {
  auto table = c.exec("SELECT to_regclass('migrations') IS NOT NULL");
  if (!table) return sdk::fail(table.error());
  if (first_value(*table) != "t") return false;
  auto rows = c.exec(
      "SELECT count(*) FROM migrations WHERE name ~ '^InitialMigration[0-9]*$'");
  if (!rows) return false;  // a `migrations` table of another shape is not TypeORM's
  return first_value(*rows) != "0";
}

// Strata's migrations 1 and 2 run into a scratch schema, read back, and rolled back.
sdk::Result<Catalog> reference_catalog(Connection& c, const std::string& search_path) {
  auto [tables, functions] = seed_names();
  auto scratch_name = c.exec("SELECT 'strata_seed_reference_' || pg_backend_pid()");
  if (!scratch_name) return sdk::fail(scratch_name.error());
  const std::string scratch = first_value(*scratch_name);
  if (auto r = c.exec("SAVEPOINT strata_seed_reference"); !r) return sdk::fail(r.error());
  auto build = [&]() -> sdk::Result<Catalog> {
    if (auto r = c.exec("CREATE SCHEMA " + scratch); !r) return sdk::fail(r.error());
    if (auto r = c.exec("SET LOCAL search_path TO " + scratch + ", " + search_path); !r) return sdk::fail(r.error());
    for (const auto* m : seed_migrations())
      for (const auto& statement : split_sql(m->up))
        if (auto r = c.exec(statement.text); !r) {
          auto e = r.error();
          e.message = "building the seed's reference schema (migration " + std::to_string(m->version) + "_" +
                      m->name + ", `" + statement.summary() + "`): " + e.message;
          return sdk::fail(e);
        }
    return read_catalog(c, scratch, tables, functions);
  };
  auto catalog = build();
  // Rolled back whatever happened: the scratch schema and the search_path go.
  auto undone = c.exec("ROLLBACK TO SAVEPOINT strata_seed_reference");
  if (catalog && !undone) return sdk::fail(undone.error());
  if (auto r = c.exec("RELEASE SAVEPOINT strata_seed_reference"); catalog && !r) return sdk::fail(r.error());
  return catalog;
}

}  // namespace

sdk::Result<bool> seed_objects_exist(Connection& c) {
  auto [tables, functions] = seed_names();
  for (const auto& table : tables) {
    auto r = c.exec("SELECT to_regclass($1) IS NOT NULL", {table});
    if (!r) return sdk::fail(r.error());
    if (first_value(*r) == "t") return true;
  }
  for (const auto& function : functions) {
    auto r = c.exec("SELECT count(*) FROM pg_proc WHERE proname = $1 AND pronamespace = current_schema()::regnamespace",
                    {function});
    if (!r) return sdk::fail(r.error());
    if (first_value(*r) != "0") return true;
  }
  return false;
}

sdk::Result<SeedAdoption> inspect_seed(Connection& c) {
  auto where = c.exec("SELECT current_schema(), current_setting('search_path')");
  if (!where) return sdk::fail(where.error());
  const std::string schema = PQgetvalue(where->get(), 0, 0), search_path = PQgetvalue(where->get(), 0, 1);
  auto [tables, functions] = seed_names();
  auto found = read_catalog(c, schema, tables, functions);
  if (!found) return sdk::fail(found.error());
  auto seed = reference_catalog(c, search_path);
  if (!seed) return sdk::fail(seed.error());
  auto typeorm = typeorm_initial_ran(c);
  if (!typeorm) return sdk::fail(typeorm.error());

  std::set<std::string> index_objects;
  for (const auto* m : seed_migrations())
    for (const auto& object : objects_of(*m))
      if (kind_of(object) == "index") index_objects.insert(name_of(object));

  SeedAdoption out;
  Comparison compare(*seed, *found, index_objects, out);
  for (const auto* m : seed_migrations()) {
    AdoptedMigration step{m, "apply", "", {}};
    std::vector<std::string> present;
    for (const auto& object : objects_of(*m)) (exists(*found, object) ? present : step.missing).push_back(object);
    const std::string file = std::string("the seed's ") + seed_file(m->version);
    if (present.empty()) {
      step.missing.clear();
      step.detail = "none of " + file + "'s objects found: created";
    } else if (step.missing.empty()) {
      step.action = "baseline";
      step.detail = "made by " + file + " and identical: recorded as applied, nothing run";
    } else if (m->version == 1 && *typeorm && present == std::vector<std::string>{"table users"}) {
      step.action = "complete";
      step.detail = "users made by the seed's TypeORM migration 001_initial (identical); the rest of " + file +
                    " is created";
    } else {
      step.action = "refused";
      step.detail = "partly made by " + file + ": see the differences";
      for (const auto& object : step.missing)
        compare.differ(object + ": " + file + " creates it; not found (the rest of " + file + " is here)");
      step.missing.clear();
    }
    for (const auto& object : present) compare.object(object);
    out.migrations.push_back(std::move(step));
  }
  return out;
}

sdk::Result<void> complete_migration(Connection& c, const AdoptedMigration& m) {
  std::set<std::string> missing(m.missing.begin(), m.missing.end());
  for (const auto& statement : split_sql(m.migration->up)) {
    std::string object = statement.creates();
    if (!missing.contains(object) && kind_of(object) != "extension") continue;
    if (auto r = c.exec(statement.text); !r) {
      auto e = r.error();
      e.message = "migration " + std::to_string(m.migration->version) + "_" + m.migration->name +
                  " (completing the seed's) failed at `" + statement.summary() + "`: " + e.message;
      return sdk::fail(e);
    }
  }
  return {};
}

}  // namespace strata::postgres
