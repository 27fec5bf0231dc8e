#pragma once
// A FerretDB server of the test's own, on a free port with its own data
// directory, that the test can stop and start: the "backend goes away" cases.

#include <filesystem>

#include "backends.hpp"
#include "mongo_db.hpp"
#include "process.hpp"
#include "strata/sdk/uuid.hpp"

namespace strata::test {

class OwnFerretDb {
 public:
  OwnFerretDb() : port_(free_port()), dir_(std::filesystem::temp_directory_path() / ("strata-ferret-" + sdk::Uuid::generate().str())) {
    if (!std::filesystem::exists(ferretdb_binary())) {
      require_backend("FerretDB binary " + ferretdb_binary().string() + " (tools/install-ferretdb.sh)", 1);
    }
    std::filesystem::create_directories(dir_ / "data");
    start();
  }
  ~OwnFerretDb() {
    stop();
    std::filesystem::remove_all(dir_);
  }
  void start() {
    pid_ = spawn({ferretdb_binary().string(), "--handler=sqlite", "--sqlite-url=file:" + (dir_ / "data").string() + "/",
                        "--state-dir=" + dir_.string(), "--listen-addr=127.0.0.1:" + std::to_string(port_),
                        "--debug-addr=-", "--telemetry=disable", "--log-level=error"});
    REQUIRE(wait_until([&] { return listening(port_); }));
  }
  void stop() {
    if (pid_ > 0) test::stop(pid_);
    pid_ = 0;
  }
  int port() const { return port_; }

 private:
  int port_;
  std::filesystem::path dir_;
  pid_t pid_ = 0;
};

}  // namespace strata::test
