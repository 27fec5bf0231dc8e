// A sending process killed with SIGKILL at a random moment: after a restart
// every acknowledged message is stored, and every stored message has exactly
// one audit event (the transactional outbox). Runs on the configs whose
// storage and sink outlive a process (embedded, production).

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "process.hpp"
#include "service_env.hpp"
#include "stored_messages.hpp"
#include "test_paths.hpp"

extern char** environ;

using namespace std::chrono_literals;
using namespace strata;

namespace {

// Complete lines only: a line the kill cut short was never acknowledged.
std::vector<sdk::Uuid> acknowledged_ids(const std::filesystem::path& file) {
  std::vector<sdk::Uuid> ids;
  auto text = test::read_text(file);
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    auto id = sdk::Uuid::parse(std::string_view(text).substr(start, end - start));
    REQUIRE(id);
    ids.push_back(*id);
  }
  return ids;
}

pid_t spawn_sender(const std::vector<std::string>& argv, const std::map<std::string, std::string>& vars) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  for (const auto& [name, value] : vars) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp, args;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), envp.data()) == 0);
  return pid;
}

}  // namespace

TEST_CASE("crash: a sender killed at a random moment loses no acknowledged message and no audit event",
          "[services][crash]") {
  test::ServiceEnv env;
  auto alice = env.user("alice");
  auto bob = env.user("bob");
  auto config = env.dir() / "strata.toml";
  std::ofstream(config) << env.config_text();
  auto acknowledged_file = env.dir() / "acknowledged.txt";
  env.close();  // the sender is the only process on the data until it dies

  pid_t sender = spawn_sender({strata::test::paths::crash_sender(), config.string(), acknowledged_file.string(), alice.id.str(),
                               bob.id.str()},
                              env.env_vars());
  // Killed at a random moment once it is well under way.
  bool under_way = test::wait_until(
      [&] { return std::filesystem::exists(acknowledged_file) && std::filesystem::file_size(acknowledged_file) > 37 * 100; },
      60s);
  std::mt19937 random(std::random_device{}());
  std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 1500)(random)));
  ::kill(sender, SIGKILL);
  int status = 0;
  ::waitpid(sender, &status, 0);
  REQUIRE(under_way);
  CHECK(WIFSIGNALED(status));

  env.reopen();  // the restart: its relay hands over what the dead process left in the outbox
  auto acknowledged = acknowledged_ids(acknowledged_file);
  auto stored = test::inbox_ids(*env.host().storage(), bob.id);
  std::set<sdk::Uuid> stored_set(stored.begin(), stored.end());
  INFO(acknowledged.size() << " acknowledged, " << stored.size() << " stored");
  for (const auto& id : acknowledged) {
    INFO("acknowledged " << id.str());
    REQUIRE(stored_set.contains(id));
  }
  auto per_message = test::send_events_by_message(env, stored.size() + 1000);
  for (const auto& id : stored_set) {
    INFO("stored " << id.str());
    REQUIRE(per_message[id] == 1);
  }
  CHECK(per_message.size() == stored_set.size());
}
