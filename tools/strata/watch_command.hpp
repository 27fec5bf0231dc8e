#pragma once
// `strata watch`: follow a user's inbox as messages arrive.

#include <filesystem>
#include <optional>
#include <string>

#include "strata/host.hpp"

namespace strata::cli {

struct WatchOptions {
  std::string name;                           ///< whose inbox
  std::filesystem::path cursor_file;          ///< where the position is kept between runs; empty: none
  std::optional<std::size_t> count;           ///< stop after printing this many messages
  std::optional<long> idle_timeout_s;         ///< stop after this long without a new message
};

int watch(const Host& host, const WatchOptions& options);

}  // namespace strata::cli
