#pragma once
// Tests that need a real server: skipped on a laptop without it, failed under CI=true.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "test_servers.hpp"

namespace strata::test {

/// The exit code ctest reports as "Skipped" (SKIP_RETURN_CODE in tests/CMakeLists.txt).
inline constexpr int skip_exit_code = 77;

/// Whether something accepts TCP connections on 127.0.0.1:port.
inline bool listening(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

/// Requires a backend: under CI=true its absence fails the test; elsewhere the
/// test is skipped with a note saying how to start it.
inline void require_backend(const std::string& name, int port) {
  if (listening(port)) return;
  const char* ci = std::getenv("CI");
  std::string why = name + " is not running on 127.0.0.1:" + std::to_string(port) + " (tools/services.sh start starts it)";
  if (ci && std::string(ci) == "true") FAIL(why + "; CI=true, so this is a failure, not a skip");
  std::fprintf(stderr, "SKIPPED: %s\n", why.c_str());
  std::fflush(nullptr);
  std::_Exit(skip_exit_code);
}

/// Requires one of the test servers.
inline void require_postgres() { require_backend("PostgreSQL", postgres_port()); }
inline void require_redis() { require_backend("Redis", redis_port()); }
inline void require_mongodb() { require_backend("MongoDB (FerretDB)", mongodb_port()); }

/// A TCP port on 127.0.0.1 that was free a moment ago.
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace strata::test
