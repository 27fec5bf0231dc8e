#pragma once
// Running pg_dump and pg_restore safely: an argument vector (no shell); the
// connection as a conninfo in --dbname with every value quoted, without the
// password, which goes in a private 0600 passfile (PGPASSFILE), so neither
// `ps` nor /proc/<pid>/cmdline ever shows it; an environment holding only
// what the tools need (PATH, locale, libpq's PG* variables), so they never
// see the host's secrets (DB_ENCRYPTION_KEY, …); stderr captured for the
// error message.

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "postgres_settings.hpp"
#include "strata/sdk/error.hpp"

namespace strata::postgres {

/// The libpq keywords a child connects with: the settings' keywords, a
/// conninfo string or URI taken apart (PQconninfoParse).
sdk::Result<std::vector<std::pair<std::string, std::string>>> child_keywords(const Settings& settings);

/// A conninfo string of `keywords` with every value quoted as libpq requires
/// (so a database name with spaces, quotes, '=' or '$(…)' is taken literally).
std::string conninfo_string(const std::vector<std::pair<std::string, std::string>>& keywords);

/// The environment a child gets: PATH, HOME, locale and time zone, TMPDIR and
/// libpq's own PG* variables from `parent`; nothing else.
std::vector<std::string> child_environment(char** parent);

/// `tool` (a name searched in PATH, or a path) with `args` and
/// --dbname=<conninfo>, connected as `settings` say. A missing tool, a failed
/// start or a non-zero exit is an error naming the tool and quoting its stderr.
sdk::Result<void> run_pg_tool(const std::string& tool, const std::vector<std::string>& args, const Settings& settings);

}  // namespace strata::postgres
