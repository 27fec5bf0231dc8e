#pragma once
// `strata backup`, `strata backup verify`, `strata restore`. Each returns the exit code.

#include <string>

#include "strata/host.hpp"

namespace strata::cli {

int backup(const Host& host, const std::string& out_dir, bool encrypt);
/// Checks integrity, and authenticity with the config's cipher.
int backup_verify(const Host& host, const std::string& dir);
int restore(const Host& host, const std::string& dir, bool force);

}  // namespace strata::cli
