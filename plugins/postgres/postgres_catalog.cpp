#include "postgres_catalog.hpp"

namespace strata::postgres {
namespace {

// A text[] parameter: {"a","b"} with quotes, so any name is one element.
std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char ch : item) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

std::string value(const PgResult& r, int row, int column) { return PQgetvalue(r.get(), row, column); }

constexpr const char* columns_sql =
    "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull::text,"
    " COALESCE(pg_get_expr(d.adbin, d.adrelid), '')"
    " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
    " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
    " WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p')"
    " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum";
constexpr const char* constraints_sql =
    "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)"
    " FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = $1 AND c.relname = ANY($2::text[])";
// pg_get_indexdef qualifies the table with its schema: left out, so that two schemas compare.
constexpr const char* indexes_sql =
    "SELECT c.relname, i.relname, x.indisunique::text,"
    " regexp_replace(pg_get_indexdef(x.indexrelid), ' ON \\S+ USING ', ' ON ' || quote_ident(c.relname) || ' USING ')"
    " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid"
    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY($2::text[])";
constexpr const char* triggers_sql =
    "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND NOT t.tgisinternal";
constexpr const char* functions_sql =
    "SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid), l.lanname, p.prosrc"
    " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang"
    " WHERE n.nspname = $1 AND p.proname = ANY($2::text[])";

}  // namespace

sdk::Result<Catalog> read_catalog(Connection& c, const std::string& schema, const std::vector<std::string>& tables,
                                  const std::vector<std::string>& functions) {
  Catalog out;
  const std::vector<Param> on_tables{schema, text_array(tables)};
  auto columns = c.exec(columns_sql, on_tables);
  if (!columns) return sdk::fail(columns.error());
  for (int i = 0; i < PQntuples(columns->get()); ++i) {
    auto& table = out.tables[value(*columns, i, 0)];
    std::string name = value(*columns, i, 1);
    table.column_order.push_back(name);
    table.columns[name] = {value(*columns, i, 2), value(*columns, i, 3) == "true", value(*columns, i, 4)};
  }
  auto constraints = c.exec(constraints_sql, on_tables);
  if (!constraints) return sdk::fail(constraints.error());
  for (int i = 0; i < PQntuples(constraints->get()); ++i)
    out.tables[value(*constraints, i, 0)].constraints[value(*constraints, i, 1)] = value(*constraints, i, 2);
  auto indexes = c.exec(indexes_sql, on_tables);
  if (!indexes) return sdk::fail(indexes.error());
  for (int i = 0; i < PQntuples(indexes->get()); ++i) {
    auto& table = out.tables[value(*indexes, i, 0)];
    table.indexes[value(*indexes, i, 1)] = value(*indexes, i, 3);
    if (value(*indexes, i, 2) == "true") table.unique_indexes.insert(value(*indexes, i, 1));
  }
  auto triggers = c.exec(triggers_sql, on_tables);
  if (!triggers) return sdk::fail(triggers.error());
  for (int i = 0; i < PQntuples(triggers->get()); ++i)
    out.tables[value(*triggers, i, 0)].triggers.insert(value(*triggers, i, 1));
  auto procs = c.exec(functions_sql, {schema, text_array(functions)});
  if (!procs) return sdk::fail(procs.error());
  for (int i = 0; i < PQntuples(procs->get()); ++i)
    out.functions[value(*procs, i, 0)] = {value(*procs, i, 1), value(*procs, i, 2), value(*procs, i, 3),
                                          value(*procs, i, 4)};
  auto extensions = c.exec("SELECT extname FROM pg_extension");
  if (!extensions) return sdk::fail(extensions.error());
  for (int i = 0; i < PQntuples(extensions->get()); ++i) out.extensions.insert(value(*extensions, i, 0));
  return out;
}

}  // namespace strata::postgres
