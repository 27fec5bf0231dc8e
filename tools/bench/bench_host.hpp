#pragma once
// Opening a host from inline TOML in a benchmark; aborts with the reason on failure.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "strata/host.hpp"

namespace strata::bench {

namespace detail {
inline std::string scratch_dir;
inline void remove_scratch_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(scratch_dir, ignored);
}
}  // namespace detail

/// Points STRATA_DATA_DIR at a directory of this run's own, removed when it
/// exits, unless the caller set one: a benchmark's audit spool and ledger
/// then never land in ~/.local/share/strata, where `strata demo` (the
/// README's first command) would find data sealed under another key and
/// rightly refuse to start.
inline void use_scratch_data_dir() {
  if (!detail::scratch_dir.empty() || std::getenv("STRATA_DATA_DIR")) return;
  std::string pattern = (std::filesystem::temp_directory_path() / "strata-bench.XXXXXX").string();
  if (!::mkdtemp(pattern.data())) {
    std::perror("benchmark setup failed: mkdtemp");
    std::exit(1);
  }
  detail::scratch_dir = pattern;
  ::setenv("STRATA_DATA_DIR", pattern.c_str(), 1);
  std::atexit(detail::remove_scratch_dir);
}

inline std::unique_ptr<Host> open_or_die(std::string_view toml, HostOptions options = {}) {
  use_scratch_data_dir();
  auto host = Host::open_string(toml, std::move(options), "<benchmark>");
  if (!host) {
    std::fprintf(stderr, "benchmark setup failed: %s\n", host.error().message.c_str());
    std::exit(1);
  }
  return std::move(*host);
}

inline constexpr std::string_view bench_key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

}  // namespace strata::bench
