#pragma once
// Running pg_dump and pg_restore safely: an argument vector (no shell), the
// connection in PG* environment variables (the password never in argv, where
// `ps` would show it), stderr captured for the error message.

#include <filesystem>
#include <string>
#include <vector>

#include "pg_settings.hpp"
#include "strata/sdk/error.hpp"

namespace strata::postgres {

/// `tool` (a name searched in PATH, or a path) with `args`, connected as `settings` say.
/// A missing tool, a failed start or a non-zero exit is an error naming the tool and quoting its stderr.
sdk::Result<void> run_pg_tool(const std::string& tool, const std::vector<std::string>& args, const Settings& settings);

/// The --dbname argument that names the settings' database: the conninfo as
/// given, or dbname='…' with quotes and backslashes escaped as libpq requires,
/// so a name holding spaces, quotes, '=' or '$(…)' is taken literally.
std::string dbname_argument(const Settings& settings);

}  // namespace strata::postgres
