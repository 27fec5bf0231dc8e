// A running seed deployment moved onto Strata, as its team would: a database
// built by the seed's own SQL and written by the seed's Node code (bcrypt and
// argon2id password hashes, DatabaseEncryption.encrypt's tagless messages),
// then `strata migrate up` and `strata adopt messages`, with the seed's Node
// services and Strata writing side by side meanwhile (seed_deployment.cjs).

#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "backends.hpp"
#include "mongo_db.hpp"
#include "postgres_db.hpp"
#include "process.hpp"
#include "strata/services.hpp"
#include "test_host.hpp"
#include "test_paths.hpp"

using namespace strata;
using namespace std::chrono_literals;

namespace {

const std::filesystem::path scripts = strata::test::paths::source_dir() + "/tests/interop";

// One seed deployment's servers and environment, and Strata's production
// config on them (config/production.toml as shipped).
class SeedDeployment {
 public:
  SeedDeployment() : tag_(sdk::Uuid::generate().str().substr(0, 8)) {
    dir_ = std::filesystem::temp_directory_path() / ("strata-seed-migration-" + tag_);
    std::filesystem::create_directories(dir_);
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all);
    env_ = {{"DB_HOST", "127.0.0.1"},    {"DB_PORT", std::to_string(test::postgres_port())},
            {"DB_USER", "postgres"},     {"DB_NAME", pg_.name()},
            {"REDIS_HOST", "127.0.0.1"}, {"REDIS_PORT", std::to_string(test::redis_port())},
            {"REDIS_KEY_PREFIX", "seed-" + tag_ + ":"}, {"MONGODB_URI", mongo_.uri()},
            {"DB_ENCRYPTION_KEY", test::test_key_hex},  {"STRATA_DATA_DIR", dir_.string()},
            {"PGGSSENCMODE", "disable"}};
    for (const auto& [name, value] : env_) ::setenv(name.c_str(), value.c_str(), 1);
    config_ = dir_ / "production.toml";
    std::ofstream(config_) << test::read_file(strata::test::paths::source_dir() + "/config/production.toml");
  }
  ~SeedDeployment() { std::filesystem::remove_all(dir_); }

  const std::string& tag() const { return tag_; }
  const std::filesystem::path& config() const { return config_; }

  // Runs seed_deployment.cjs in `mode`; its JSON answer.
  nlohmann::json node(nlohmann::json input) const {
    input["tag"] = tag_;
    ::setenv("NODE_PATH", strata::test::paths::interop_node_modules().c_str(), 1);
    ::setenv("STRATA_INTEROP", input.dump().c_str(), 1);
    auto out = dir_ / ("node-" + sdk::Uuid::generate().str() + ".out");
    int status = test::run({"node", (scripts / "seed_deployment.cjs").string()}, out);
    std::string text = test::read_file(out);
    INFO("seed_deployment.cjs " << input["mode"] << " -> " << status << ": " << text);
    REQUIRE(status == 0);
    return nlohmann::json::parse(text);
  }

  // Runs the strata CLI on the production config: (exit status, stdout and stderr).
  std::pair<int, std::string> strata(std::vector<std::string> args) const {
    args.insert(args.begin(), {strata::test::paths::strata_cli(), "--config", config_.string()});
    auto out = dir_ / ("cli-" + sdk::Uuid::generate().str() + ".out");
    std::vector<std::string> shell{"sh", "-c", "exec \"$0\" \"$@\" 2>&1"};
    shell.insert(shell.end(), args.begin(), args.end());
    int status = test::run(shell, out);
    std::string text = test::read_file(out);
    UNSCOPED_INFO("strata " << args[3] << " -> " << status << "\n" << text);
    return {status, text};
  }

  std::unique_ptr<Host> host() const {
    HostOptions options;
    options.env = test::fake_env(env_);
    auto host = Host::open_file(config_, options);
    INFO((host ? std::string() : host.error().message));
    REQUIRE(host);
    return std::move(*host);
  }

 private:
  test::TempDatabase pg_;
  test::TempMongoDatabase mongo_;
  std::string tag_;
  std::filesystem::path dir_, config_;
  std::map<std::string, std::string> env_;
};

// Every message in `messages` ({id, recipient_id, text}) opens for its recipient with exactly that text.
void check_reads_back(Services& s, const nlohmann::json& messages) {
  for (const auto& m : messages) {
    auto read = s.messages().read(*sdk::Uuid::parse(m["id"].get<std::string>()),
                                  *sdk::Uuid::parse(m["recipient_id"].get<std::string>()), Origin{"10.9.9.9"});
    INFO("message " << m["id"] << ": " << (read ? std::string() : read.error().describe()));
    REQUIRE(read);
    CHECK(read->text == m["text"].get<std::string>());
    CHECK_FALSE(read->envelope.key_id.empty());
  }
}

}  // namespace

TEST_CASE("interop: a seed deployment moves onto Strata: schema, passwords, messages, the seed still running",
          "[interop][seed][adopt]") {
  test::require_postgres();
  test::require_redis();
  test::require_mongodb();
  SeedDeployment seed;
  auto deployed = seed.node({{"mode", "deploy"}, {"users", 6}, {"messages", 120}});
  const auto& users = deployed["users"];
  std::vector<std::string> user_ids;
  for (const auto& u : users) user_ids.push_back(u["id"]);

  // ---- the schema: adopted, not re-created --------------------------------------
  auto [planned, plan] = seed.strata({"migrate", "plan"});
  CHECK(planned == 0);
  CHECK(plan.find("1_initial        baseline") != std::string::npos);
  auto [migrated, migration] = seed.strata({"migrate", "up"});
  REQUIRE(migrated == 0);
  CHECK(migration.find("adopted the seed's schema: 1_initial, 2_performance recorded as applied") != std::string::npos);
  CHECK(migration.find("schema version 0 -> 9") != std::string::npos);

  // Until adopted, the seed's messages are refused, never shown.
  auto [listed, inbox] = seed.strata({"inbox", users[1]["username"], "--limit", "5"});
  CHECK(listed == 0);
  CHECK(inbox.find("DatabaseEncryption.encrypt") != std::string::npos);
  auto [unflagged, refusal] = seed.strata({"adopt", "messages"});
  CHECK(unflagged == 1);
  CHECK(refusal.find("--accept-unauthenticated") != std::string::npos);

  // ---- side by side: the seed's Node services and Strata write while adopting ---------
  nlohmann::json written_by_seed, sent_by_strata = nlohmann::json::array();
  std::pair<int, std::string> adopting;
  {
    std::thread node_writer([&] { written_by_seed = seed.node({{"mode", "write"}, {"user_ids", user_ids}, {"count", 60}}); });
    std::thread adopter([&] { adopting = seed.strata({"adopt", "messages", "--accept-unauthenticated", "--batch", "25"}); });
    {
      auto host = seed.host();
      auto services = std::move(Services::open(*host).value());
      for (int i = 0; i < 30; ++i) {
        auto from = *sdk::Uuid::parse(user_ids[i % 6]), to = *sdk::Uuid::parse(user_ids[(i + 3) % 6]);
        std::string text = "sent by Strata meanwhile #" + std::to_string(i);
        auto sent = services->messages().send({from, to, text, std::nullopt}, Origin{"10.1.1.1"});
        REQUIRE(sent);
        sent_by_strata.push_back({{"id", sent->id.str()}, {"recipient_id", to.str()}, {"text", text}});
      }
    }
    node_writer.join();
    adopter.join();
  }
  CHECK(adopting.first == 0);
  CHECK(std::regex_search(adopting.second, std::regex("adopt finished under key default: \\d+ converted")));
  // A second run takes what the seed wrote after the first one's pages: nothing is refused, nothing done twice.
  auto [again, second] = seed.strata({"adopt", "messages", "--accept-unauthenticated"});
  CHECK(again == 0);
  CHECK(second.find(" 0 refused") != std::string::npos);
  auto [third_status, third] = seed.strata({"adopt", "messages", "--accept-unauthenticated"});
  CHECK(third_status == 0);
  CHECK(third.find("0 converted, 210 already Strata's, 0 refused") != std::string::npos);

  {
    auto host = seed.host();
    auto services = std::move(Services::open(*host).value());
    check_reads_back(*services, deployed["messages"]);
    check_reads_back(*services, written_by_seed["messages"]);
    check_reads_back(*services, sent_by_strata);

    // ---- every seed user logs in with the password they have; the hash becomes scrypt ----
    for (const auto& u : users) {
      INFO(u["username"] << " (" << u["scheme"] << ")");
      CHECK_FALSE(services->users().authenticate(u["username"].get<std::string>(), "not the password", Origin{}));
      auto login = services->users().authenticate(u["username"].get<std::string>(), u["password"].get<std::string>(),
                                                  Origin{"10.2.2.2"});
      REQUIRE(login);
      auto stored = host->storage()->get_user(login->id);
      REQUIRE(stored);
      CHECK(stored->password_hash.starts_with("$scrypt$"));
      CHECK(stored->last_login.has_value());
      CHECK(services->users().authenticate(u["username"].get<std::string>(), u["password"].get<std::string>(),
                                           Origin{"10.2.2.2"}));
    }
  }
  {
    auto host = seed.host();
    sdk::AuditQuery upgrades;
    upgrades.action = "user.password_upgrade";
    upgrades.limit = 100;
    auto found = host->audit()->query(upgrades);
    REQUIRE(found);
    CHECK(found->size() == 6);
    sdk::AuditQuery adopted;
    adopted.action = "message.adopt";
    adopted.limit = 1000;
    auto adoptions = host->audit()->query(adopted);
    REQUIRE(adoptions);
    CHECK(adoptions->size() == 180);  // the 120 deployed and the 60 written meanwhile, each once
  }

  // ---- the seed's Node side still reads its rows ------------------------------------
  std::vector<std::string> usernames, message_ids;
  for (const auto& u : users) usernames.push_back(u["username"]);
  for (const auto* list : {&deployed["messages"], &written_by_seed["messages"], &sent_by_strata})
    for (const auto& m : *list) message_ids.push_back(m["id"]);
  auto reads = seed.node({{"mode", "read"}, {"usernames", usernames}, {"message_ids", message_ids}});
  CHECK(reads["users"] == 6);
  CHECK(reads["messages"] == 210);
}

TEST_CASE("interop: adopt messages killed at random points, then resumed: every row converted exactly once",
          "[interop][seed][adopt][kill]") {
  test::require_postgres();
  test::require_redis();
  test::require_mongodb();
  SeedDeployment seed;
  constexpr int total = 1500;
  auto deployed = seed.node({{"mode", "deploy"}, {"users", 2}, {"messages", total}});
  REQUIRE(seed.strata({"migrate", "up"}).first == 0);

  std::random_device device;
  const unsigned seed_value = device();
  INFO("kill points from std::mt19937(" << seed_value << ")");
  std::mt19937 random(seed_value);
  // Each run is killed a random time after it has converted its first batch:
  // a fixed delay from spawn once killed every run before it started work
  // (an ASan build on a loaded machine takes longer than that to start).
  std::uniform_int_distribution<int> delay_ms(0, 200);
  auto checking = seed.host();
  auto converted = [&] { return checking->storage()->count_messages_not_under_key("").value(); };
  for (int run = 0; run < 6; ++run) {
    const auto before = converted();
    pid_t pid = test::spawn({"sh", "-c", "exec \"$0\" \"$@\" >/dev/null 2>&1", strata::test::paths::strata_cli(), "--config",
                             seed.config().string(), "adopt", "messages", "--accept-unauthenticated", "--batch", "10"});
    for (auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
         converted() == before && converted() < static_cast<std::uint64_t>(total) &&
         std::chrono::steady_clock::now() < give_up;)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  auto [finished, report] = seed.strata({"adopt", "messages", "--accept-unauthenticated"});
  REQUIRE(finished == 0);
  std::smatch counts;
  REQUIRE(std::regex_search(report, counts, std::regex("(\\d+) converted, (\\d+) already Strata's, 0 refused")));
  const int converted_last = std::stoi(counts[1]), before_last = std::stoi(counts[2]);
  CHECK(converted_last + before_last == total);
  CHECK(converted_last < total);  // the killed runs did part of the work
  checking.reset();

  auto host = seed.host();
  {
    auto services = std::move(Services::open(*host).value());
    check_reads_back(*services, deployed["messages"]);  // converted twice would not open
  }  // the outbox's last events reach the sink here
  sdk::AuditQuery adopted;
  adopted.action = "message.adopt";
  adopted.limit = 10 * total;
  auto events = host->audit()->query(adopted);
  REQUIRE(events);
  std::map<std::string, int> per_message;
  for (const auto& e : *events) ++per_message[e.resource];
  CHECK(per_message.size() == static_cast<std::size_t>(total));
  for (const auto& [resource, n] : per_message) {
    INFO(resource);
    CHECK(n == 1);
  }
}
