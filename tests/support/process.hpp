#pragma once
// Starting and stopping helper processes (servers, CLIs) with argument vectors, never a shell.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace strata::test {

/// Starts `argv` (searched in PATH) and returns its pid.
inline pid_t spawn(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ);
  INFO("spawning " << argv[0]);
  REQUIRE(rc == 0);
  return pid;
}

/// Runs `argv` to completion and returns its exit status (-1 if it did not exit normally).
inline int run(const std::vector<std::string>& argv) {
  pid_t pid = spawn(argv);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// Runs `argv` to completion with its standard output in the file `out`; returns its exit status.
inline int run(const std::vector<std::string>& argv, const std::filesystem::path& out) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  INFO("spawning " << argv[0]);
  REQUIRE(rc == 0);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// The whole content of a file ("" when it cannot be read).
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Stops a process with SIGTERM and waits for it.
inline void stop(pid_t pid) {
  ::kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
}

/// A process spawned for a test, stopped when the object goes — also when an
/// assertion ends the test early: a helper left running holds ctest's pipe
/// open, and ctest then waits out the test's whole timeout.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) : pid_(spawn(argv)) {}
  ~Child() { stop_now(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  pid_t pid() const { return pid_; }
  /// Whether it has exited (reaped then: stop_now() does nothing more).
  bool exited() {
    if (pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == pid_) pid_ = -1;
    return pid_ <= 0;
  }
  void stop_now() {
    if (pid_ > 0) stop(pid_);
    pid_ = -1;
  }

 private:
  pid_t pid_;
};

/// Waits until `ready()` is true, for at most `limit`.
template <class Ready>
bool wait_until(Ready ready, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ready();
}

}  // namespace strata::test
