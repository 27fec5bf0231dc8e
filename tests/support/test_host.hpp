#pragma once
// Helpers for tests that open a host from inline TOML.

#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "strata/host.hpp"
#include "test_paths.hpp"

namespace strata::test {

/// Where the deliberately broken and test-only plugins are built.
inline std::filesystem::path test_plugin_dir() { return strata::test::paths::test_plugin_dir(); }

/// A data directory of this test process's own, so that a host's default
/// audit spool never lands in the working directory or the user's home.
inline std::string test_data_dir() {
  return (std::filesystem::temp_directory_path() / ("strata-test-data-" + std::to_string(::getpid()))).string();
}

/// An environment made of exactly these variables, and STRATA_DATA_DIR
/// (test_data_dir()) unless they name one.
inline EnvLookup fake_env(std::map<std::string, std::string> vars) {
  vars.try_emplace("STRATA_DATA_DIR", test_data_dir());
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

/// Opens a host that must open; fails the test with the error otherwise.
inline std::unique_ptr<Host> open_host(std::string_view toml, HostOptions options = {}) {
  if (!options.env) options.env = fake_env({});
  auto host = Host::open_string(toml, std::move(options), "test.toml");
  INFO((host ? std::string("opened") : host.error().message));
  REQUIRE(host.has_value());
  return std::move(*host);
}

/// The error of a host that must not open.
inline sdk::Error open_error(std::string_view toml, HostOptions options = {}) {
  if (!options.env) options.env = fake_env({});
  auto host = Host::open_string(toml, std::move(options), "test.toml");
  REQUIRE_FALSE(host.has_value());
  return host.error();
}

/// A valid 64-hex-character test key.
inline const std::string test_key_hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

}  // namespace strata::test
