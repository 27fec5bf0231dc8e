#pragma once
// A redis-server of a test's own on a free port, for tests that stop it,
// kill its clients or need a password: the suite's shared server is never
// disturbed.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "backends.hpp"
#include "process.hpp"

namespace strata::test {

class OwnRedis {
 public:
  explicit OwnRedis(std::vector<std::string> extra = {}) : port_(free_port()), extra_(std::move(extra)) { start(); }
  ~OwnRedis() { stop(); }
  OwnRedis(const OwnRedis&) = delete;
  OwnRedis& operator=(const OwnRedis&) = delete;

  void start() {
    std::vector<std::string> argv{"redis-server", "--bind", "127.0.0.1", "--port", std::to_string(port_),
                                  "--save", "", "--appendonly", "no", "--daemonize", "no",
                                  "--logfile", "/tmp/strata-test-redis-" + std::to_string(port_) + ".log"};
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    pid_ = spawn(argv);
    REQUIRE(wait_until([&] { return listening(port_); }));
  }
  void stop() {
    if (pid_ > 0) test::stop(pid_);
    pid_ = 0;
  }
  int port() const { return port_; }

 private:
  int port_;
  std::vector<std::string> extra_;
  pid_t pid_ = 0;
};

}  // namespace strata::test
