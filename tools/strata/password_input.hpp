#pragma once
// Reading a password without it ever touching argv: a prompt with echo off
// on a terminal, else one line from stdin (for scripts: `printf '%s\n' "$pw" | strata user add …`).

#include <string>

#include "strata/sdk/error.hpp"

namespace strata::cli {

/// On a terminal: asks twice (echo off) when `confirm`, once otherwise.
sdk::Result<std::string> read_password(const char* prompt, bool confirm);

}  // namespace strata::cli
