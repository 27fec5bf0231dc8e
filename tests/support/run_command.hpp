#pragma once
// A shell command line run from a test: the throwaway server groups' scripts
// (tools/pg-formation.sh, tools/redis-sentinel.sh, tools/redis-cluster.sh) and redis-cli.

#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <string>

namespace strata::test {

/// Runs a shell command line; its output (stdout and stderr, trailing newlines cut). Fails the test if it fails.
inline std::string run_command(const std::string& line) {
  FILE* pipe = ::popen((line + " 2>&1").c_str(), "r");
  REQUIRE(pipe);
  std::string out;
  std::array<char, 4096> buffer{};
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  int status = ::pclose(pipe);
  INFO(line << ":\n" << out);
  REQUIRE(status == 0);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace strata::test
