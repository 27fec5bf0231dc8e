#pragma once
// Opening a host from inline TOML in a benchmark; aborts with the reason on failure.

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "strata/host.hpp"

namespace strata::bench {

inline std::unique_ptr<Host> open_or_die(std::string_view toml, HostOptions options = {}) {
  auto host = Host::open_string(toml, std::move(options), "<benchmark>");
  if (!host) {
    std::fprintf(stderr, "benchmark setup failed: %s\n", host.error().message.c_str());
    std::exit(1);
  }
  return std::move(*host);
}

inline constexpr std::string_view bench_key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

}  // namespace strata::bench
