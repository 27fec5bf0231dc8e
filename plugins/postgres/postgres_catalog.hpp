#pragma once
// What the PostgreSQL catalog says of a few tables and functions in one
// schema, in a form two databases can be compared by: the seed adoption
// compares a database the seed's own SQL made with the same SQL run by
// Strata's migrations into a scratch schema.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "postgres_connection.hpp"

namespace strata::postgres {

struct CatalogColumn {
  std::string type;  ///< format_type(): "character varying(255)", "uuid", …
  bool not_null = false;
  std::string default_expr;  ///< pg_get_expr() of the default, "" for none
  bool operator==(const CatalogColumn&) const = default;
};

struct CatalogTable {
  std::vector<std::string> column_order;
  std::map<std::string, CatalogColumn> columns;
  std::map<std::string, std::string> constraints;  ///< name -> pg_get_constraintdef()
  std::map<std::string, std::string> indexes;      ///< name -> pg_get_indexdef(), the schema left out
  std::set<std::string> unique_indexes;
  std::set<std::string> triggers;                  ///< user triggers
};

struct CatalogFunction {
  std::string arguments, result, language, body;
  bool operator==(const CatalogFunction&) const = default;
};

struct Catalog {
  std::map<std::string, CatalogTable> tables;        ///< only those that exist
  std::map<std::string, CatalogFunction> functions;  ///< only those that exist
  std::set<std::string> extensions;                  ///< installed anywhere in the database
};

/// Reads `tables` and `functions` of `schema` as they are, on the
/// connection's current search_path (which decides how names in defaults and
/// foreign keys are printed).
sdk::Result<Catalog> read_catalog(Connection& c, const std::string& schema, const std::vector<std::string>& tables,
                                  const std::vector<std::string>& functions);

}  // namespace strata::postgres
