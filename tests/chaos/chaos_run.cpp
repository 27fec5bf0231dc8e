// strata-chaos: seeded rounds of clients sending, reading, opening and
// revoking sessions, rotating keys and taking backups while the `faulty`
// wrapper fails, slows and half-applies the storage's, cache's and audit
// sink's calls; then checkers over what the clients saw (issue 29, item 3).
//
//   strata-chaos [--seeds N] [--first SEED] [--ops N] [--threads N] [--postgres [--network | --failover]]
//   [--sentinel] [--kill] [--disk] [--tamper]
//
// The storage is SQLite in a scratch directory, or with --postgres a
// database of the round's own on the suite's PostgreSQL test server
// (tools/services.sh; STRATA_TEST_POSTGRES_PORT). With --network the
// storage reaches it through a toxiproxy of the round's own, and a seeded
// schedule of latency, resets, silence and cuts plays on the connections
// while the clients run (network_faults.hpp). With --failover the storage
// is on the pg_auto_failover formation instead, failed over mid-round
// (failover_faults.hpp); with --sentinel the cache is on the Redis
// Sentinel group, failed over the same way.
//
// With --disk the clients' writes and syncs fail (EIO, ENOSPC, short
// writes) at seeded rates, through libfiu (disk_faults.hpp).
//
// Each round draws its fault rates and its clock jumps (clock_jumps.hpp:
// the host's wall clock stepped forward by up to two days and back by up to
// ten minutes while the clients run) from its seed, runs the clients
// (client.hpp), lifts the faults, lets the audit pipeline drain, and runs
// the checkers (checks.hpp: exactly-once sends and audit events, sequence
// numbers, revoked sessions, one active key, and an Elle-style isolation
// check over the reads; here: every verified backup restores what it
// counted and every send acknowledged before it).
//
// With --kill the clients are worker processes (this executable again, with
// --worker) that open the host as an embedding application does and journal
// every step (history.hpp); the round SIGKILLs some of them at seeded
// moments and starts replacements, so sends die in flight, outbox events
// wait for another process to relay them, and files and transactions are
// cut off mid-write. The checks then run in a fresh host on what is left.
// A failing round prints its seed; `--first SEED --seeds 1` replays its
// fault schedule (the draws are seeded; thread interleavings are not).

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "checks.hpp"
#include "client.hpp"
#include "clock_jumps.hpp"
#include "disk_faults.hpp"
#include "failover_faults.hpp"
#include "history.hpp"
#include "network_faults.hpp"
#include "strata/host.hpp"
#include "strata/services.hpp"
#include "test_paths.hpp"
#include "test_servers.hpp"

namespace {

using namespace strata;

const char* const test_key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

struct Options {
  std::uint64_t first = 1;
  int seeds = 4;
  int ops = 150;  // per client thread
  int threads = 4;
  bool tamper = false;  // checks the checkers: tampers with what a round stored, expects them to say so
  bool postgres = false;
  bool kill = false;  // clients are processes, some SIGKILLed mid-run
  bool network = false;   // with postgres: the storage's connections through toxiproxy, faulted
  bool disk = false;      // the process's writes and syncs fail at seeded rates (libfiu)
  bool failover = false;  // with postgres: the storage on the pg_auto_failover formation, failed over
  bool sentinel = false;  // the cache on the Redis Sentinel group, failed over
};

// The round's fault rates, drawn from its seed.
std::string faulty_config(const std::filesystem::path& dir, std::uint64_t seed, const std::string& wrapped,
                          const std::string& cache_wrapped) {
  std::mt19937_64 draw(seed);
  auto rate = [&](double most) { return std::uniform_real_distribution<double>(0, most)(draw); };
  return fmt::format(
      "[cipher]\nplugin = \"aes_gcm\"\nkey = \"{key}\"\n"
      "[users]\nscrypt_log2_n = 10\n"
      // No retry of a write cut off, a short one, or a long one: with none, the
      // outcome-unknown sends reach the caller as errors.
      "[group_commit]\nretry_ms = {retry}\n"
      "[storage]\nplugin = \"faulty\"\nseed = {seed}\n{wrapped}"
      // Committed, reported failed: what a connection cut after COMMIT looks like.
      "[[storage.faults]]\nmethod = \"insert_sends\"\nprobability = {commit:.3f}\nerror = \"timeout\"\n"
      "after_commit = true\n"
      "[[storage.faults]]\nmethod = \"insert_with_outbox\"\nprobability = {commit:.3f}\nerror = \"timeout\"\n"
      "after_commit = true\n"
      "[[storage.faults]]\nprobability = {down:.3f}\nerror = \"unavailable\"\n"
      "[[storage.faults]]\nprobability = {slow:.3f}\nlatency_ms = 2\n"
      "[cache.default]\nplugin = \"faulty\"\nseed = {seed1}\n{cache_wrapped}"
      "[[cache.default.faults]]\nprobability = {cache:.3f}\nerror = \"unavailable\"\n"
      "[audit]\nplugin = \"faulty\"\nwraps = \"file_audit\"\nseed = {seed2}\nflush_interval_ms = 20\n"
      "[audit.wrapped]\npath = \"{audit}\"\n"
      "[[audit.faults]]\nmethod = \"append\"\nprobability = {stored:.3f}\nerror = \"timeout\"\nafter_commit "
      "= true\n"
      "[[audit.faults]]\nmethod = \"append\"\nprobability = {sink:.3f}\nerror = \"unavailable\"\n",
      fmt::arg("key", test_key), fmt::arg("seed", seed), fmt::arg("seed1", seed + 1),
      fmt::arg("seed2", seed + 2), fmt::arg("wrapped", wrapped), fmt::arg("cache_wrapped", cache_wrapped),
      fmt::arg("audit", (dir / "audit.jsonl").string()), fmt::arg("commit", rate(0.15)),
      fmt::arg("down", rate(0.1)), fmt::arg("slow", rate(0.1)), fmt::arg("cache", rate(0.2)),
      fmt::arg("sink", rate(0.5)), fmt::arg("stored", rate(0.1)),
      fmt::arg("retry", std::array{0, 100, 2000}[seed % 3]));
}

// Turns every instance's faults off (setting up, checking) or back on.
struct Faults {
  Host& host;
  std::vector<std::pair<std::shared_ptr<FaultControl>, std::vector<FaultRule>>> saved;
  explicit Faults(Host& h) : host(h) {
    for (auto [role, instance] : {std::pair{sdk::Role::storage, "default"}, std::pair{sdk::Role::cache, "default"},
                                  std::pair{sdk::Role::audit, "default"}})
      if (auto control = host.faults(role, instance)) saved.emplace_back(control, control->rules());
  }
  void off() {
    for (auto& [control, rules] : saved) control->clear();
  }
  void on() {
    for (auto& [control, rules] : saved) control->set(rules);
  }
  std::uint64_t injected() const {
    std::uint64_t n = 0;
    for (const auto& [control, rules] : saved) n += control->injected();
    return n;
  }
};

// A PostgreSQL database of the round's own on the test server, dropped when it goes.
struct ScratchDatabase {
  std::string name, error;
  bool keep = false;  // a failed round's, for a look afterwards
  explicit ScratchDatabase(std::string n) : name(std::move(n)) {
    if (auto r = admin("CREATE DATABASE " + name); !r.empty()) error = "creating " + name + ": " + r;
  }
  ~ScratchDatabase() {
    if (!keep) (void)admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  // Runs `sql` on the server's postgres database with psql; its complaint, or "".
  static std::string admin(const std::string& sql) {
    auto ran = chaos::shell(fmt::format("psql -h 127.0.0.1 -p {} -U postgres -d postgres -Atqc '{}'",
                                        test::postgres_port(), sql));
    return ran.ok ? std::string() : (ran.out.empty() ? "psql failed" : ran.out);
  }
};

// Whether violation `v` reports tampering `expected`: the same text, or for
// a cycle ("isolation: G…-realtime: … <operation>") one closed by real time
// through that operation, whichever of Adya's names its edges give it.
bool caught(const std::string& v, const std::string& expected) {
  const std::string cycle = "isolation: G…-realtime: … ";
  if (!expected.starts_with(cycle)) return v == expected;
  return v.starts_with("isolation: G") && v.find("-realtime: ") != std::string::npos &&
         v.find(expected.substr(cycle.size())) != std::string::npos;
}

// A round's place: a scratch directory (the SQLite file, the audit file, the
// ledger, the workers' journals and config) and, with --postgres, a database.
struct Scene {
  std::filesystem::path dir;
  std::optional<ScratchDatabase> database;
  std::unique_ptr<chaos::NetworkFaults> network;      // with --network
  std::optional<chaos::FormationDatabase> formation;  // with --failover, instead of `database`
  std::unique_ptr<chaos::GroupFailover> storage_failover, cache_failover;  // --failover, --sentinel
  std::string config;  // the TOML; also in dir/chaos.toml for the workers
  std::string error;
};

// The [storage] lines after `plugin = "faulty"`: SQLite in `dir`, or a
// database on a PostgreSQL server (`extra`: more of the postgres plugin's keys).
std::string sqlite_storage(const std::filesystem::path& dir) {
  return "wraps = \"sqlite\"\n[storage.wrapped]\npath = \"" + (dir / "strata.db").string() + "\"\n";
}
std::string postgres_storage(int port, const std::string& dbname, const std::string& extra = "") {
  return fmt::format(
      "wraps = \"postgres\"\n[storage.wrapped]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"postgres\"\n"
      "dbname = \"{}\"\n{}",
      port, dbname, extra);
}

std::unique_ptr<Scene> make_scene(std::uint64_t seed, const Options& options) {
  auto scene = std::make_unique<Scene>();
  scene->dir = std::filesystem::temp_directory_path() / fmt::format("strata-chaos-{}-{}", seed, ::getpid());
  std::filesystem::remove_all(scene->dir);
  std::filesystem::create_directories(scene->dir);
  std::string wrapped = sqlite_storage(scene->dir);
  if (options.failover) {
    scene->formation.emplace(fmt::format("strata_chaos_{}_{}", seed, ::getpid()));
    scene->error = scene->formation->error();
    scene->storage_failover = std::make_unique<chaos::GroupFailover>("pg-formation.sh");
    // A killed primary's connections are reset, but a demoted one may keep
    // a query waiting: a call gives up after 5 s and is retried or failed.
    wrapped = fmt::format(
        "wraps = \"postgres\"\n[storage.wrapped]\nconninfo = \"{}\"\ncommand_timeout_ms = 5000\n"
        "pool.connect_timeout_ms = 2000\n",
        scene->formation->conninfo());
  } else if (options.postgres) {
    scene->database.emplace(fmt::format("strata_chaos_{}_{}", seed, ::getpid()));
    scene->error = scene->database->error;
    int port = test::postgres_port();
    std::string timeouts;
    if (options.network) {
      scene->network = std::make_unique<chaos::NetworkFaults>(test::paths::toxiproxy(), port);
      if (scene->error.empty()) scene->error = scene->network->error();
      port = scene->network->port();
      // A silent server must cost a call a second, not TCP's many minutes.
      timeouts = "command_timeout_ms = 1000\npool.connect_timeout_ms = 1000\n";
    }
    wrapped = postgres_storage(port, scene->database->name, timeouts);
  }
  std::string cache_wrapped = "wraps = \"memory\"\n";
  if (options.sentinel) {
    auto sentinels = chaos::group_command("redis-sentinel.sh", "sentinels");
    if (!sentinels.ok && scene->error.empty())
      scene->error =
          "the Redis Sentinel group (tools/redis-sentinel.sh start; ctest's redis_sentinel fixture): " +
          sentinels.out;
    scene->cache_failover = std::make_unique<chaos::GroupFailover>("redis-sentinel.sh");
    // Every write on both replicas before it returns: a revocation survives
    // whichever replica is promoted (plugins/redis/README.md).
    cache_wrapped = fmt::format(
        "wraps = \"redis\"\n[cache.default.wrapped]\nsentinels = {}\nmaster_name = \"strata-test\"\n"
        "min_replicas_acked = 2\n",
        sentinels.out);
  }
  scene->config = faulty_config(scene->dir, seed, wrapped, cache_wrapped);
  std::ofstream(scene->dir / "chaos.toml") << scene->config;
  return scene;
}

// The host and services on a scene, with the faults switched off until on().
struct Opened {
  std::shared_ptr<chaos::JumpingClock> clock;  // the host's wall clock
  std::unique_ptr<Host> host;
  std::unique_ptr<Faults> faults;
  std::unique_ptr<Services> services;
  std::string error;
};

Opened open_scene(const std::filesystem::path& dir, const std::string& config, bool migrate) {
  Opened o;
  o.clock = std::make_shared<chaos::JumpingClock>();
  HostOptions host_options;
  host_options.clock = o.clock;
  host_options.env = [dir](std::string_view name) -> std::optional<std::string> {
    if (name == "STRATA_DATA_DIR") return dir.string();
    return std::nullopt;
  };
  host_options.log = [](sdk::LogLevel, std::string_view) {};  // faults make warnings by design
  auto host = Host::open_string(config, host_options, "chaos.toml");
  if (!host) {
    o.error = "the host did not open: " + host.error().describe();
    return o;
  }
  o.host = std::move(*host);
  o.faults = std::make_unique<Faults>(*o.host);
  o.faults->off();
  if (migrate)
    if (auto migrated = Services::migrate(*o.host); !migrated) {
      o.error = "migrating: " + migrated.error().describe();
      return o;
    }
  auto services = Services::open(*o.host);
  if (!services) {
    o.error = "the services did not open: " + services.error().describe();
    return o;
  }
  o.services = std::move(*services);
  return o;
}

// Where a round's clients put their backups: none in failover rounds (a
// restore there would need a second formation database or Sentinel group).
std::filesystem::path backups_dir(const std::filesystem::path& dir, const Options& options) {
  if (options.failover || options.sentinel) return {};
  return dir / "backups";
}

// The clocks a client reads (chaos::run_client).
chaos::ClientClocks clocks(const Opened& o, const Options& options) {
  static const sdk::SystemClock server;  // Redis's, on this machine
  return {*o.clock, options.sentinel ? static_cast<const sdk::Clock&>(server) : *o.clock,
          read_service_settings(*o.host).value().sessions.ttl};
}

const int user_count = 5;

sdk::Result<std::vector<sdk::User>> register_users(Services& services) {
  std::vector<sdk::User> users;
  for (int i = 0; i < user_count; ++i) {
    auto name = fmt::format("user{}", i);
    auto user = services.users().register_user(name, name + "@example.org", name + "-password", Origin{});
    if (!user) return sdk::fail(user.error());
    if (auto key = services.keys().rotate(user->id, Origin{}); !key) return sdk::fail(key.error());
    users.push_back(*user);
  }
  return users;
}

// Waits for the relay to hand the sink what the outbox and the spool kept
// while it failed (it retries a failed sink after a pause); "" or why not.
std::string drain_audit(Opened& o) {
  auto& audit = o.services->audit();
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);;) {
    audit.flush();
    (void)audit.replay_spool();
    auto waiting = o.host->storage()->outbox_size();
    if (waiting && *waiting == 0 && audit.spooled() == 0) return "";
    if (std::chrono::steady_clock::now() > deadline)
      return fmt::format("the audit pipeline did not drain within 60 s of the sink's return ({} events in the "
                         "outbox, {} spooled)",
                         waiting ? *waiting : 0, audit.spooled());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// "5 messages, 3 users": a backup's counts.
std::string counted(const std::map<std::string, std::uint64_t>& counts) {
  std::string out;
  for (const auto& [table, n] : counts) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, table);
  return out.empty() ? std::string("nothing") : out;
}

// With --tamper: damages what the round stored and saw; what the checkers must report.
std::vector<std::string> tamper(Opened& o, chaos::History& history) {
  if (history.acked.size() < 3) return {};
  // A message lost after it was acknowledged, and an audit event doubled.
  auto lost = history.acked.begin()->second;
  (void)o.host->storage()->soft_delete_message(lost);
  auto doubled = std::next(history.acked.begin())->second;
  sdk::AuditQuery query;
  query.action = "message.send";
  query.limit = 100000;
  for (auto e : o.host->audit()->query(query).value_or(std::vector<sdk::AuditEvent>{}))
    if (e.resource == "message:" + doubled.str()) {
      e.id = sdk::Uuid::generate();
      (void)o.host->audit()->append(std::vector{e});
      break;
    }
  // A read, after a send was acknowledged, that did not see it (stale).
  const auto& acked_text = std::next(history.acked.begin(), 2)->first;
  auto sent = std::find_if(history.list_ops.begin(), history.list_ops.end(),
                           [&](const chaos::ListOp& op) { return op.value == acked_text; });
  history.list_ops.push_back(chaos::ListOp{chaos::ListOp::Kind::read, sent->key, {}, {}, true,
                                           sent->completed_ns + 1, sent->completed_ns + 2, "a stale read (tampered)"});
  std::vector<std::string> expected;
  // A backup that restores other counts than it claimed.
  if (!history.backups.empty() && !history.backups.front().counts.empty()) {
    auto& taken = history.backups.front();
    auto honest = counted(taken.counts);
    ++taken.counts.begin()->second;
    expected.push_back(
        fmt::format("backup {} counted {} and restored {}", taken.dir, counted(taken.counts), honest));
  }
  expected.insert(expected.end(),
                  {fmt::format("acknowledged send '{}' stored 0 times", history.acked.begin()->first),
                   fmt::format("message {} has 2 message.send events", doubled.str()),
                   "isolation: G…-realtime: … a stale read (tampered)"});
  return expected;
}

// The clients of an in-process round: threads sharing the round's services.
std::string run_threads(const std::filesystem::path& dir, Opened& o, const std::vector<sdk::User>& users,
                        std::uint64_t seed, const Options& options, chaos::History& history) {
  auto schedule = chaos::clock_schedule(seed);
  auto disk = chaos::disk_schedule(seed);
  auto disk_before = chaos::disk_faults_injected();
  o.faults->on();
  if (options.disk) chaos::disk_faults_on(disk, seed);
  {
    chaos::ClockJumper jumper(*o.clock, schedule);
    std::vector<std::thread> clients;
    for (int t = 0; t < options.threads; ++t)
      clients.emplace_back([&, t] {
        chaos::run_client(*o.services, clocks(o, options), users, seed, t, options.ops,
                          backups_dir(dir, options), history);
      });
    for (auto& c : clients) c.join();
  }
  chaos::disk_faults_off();
  o.faults->off();
  auto faults =
      fmt::format("{} faults injected, clock jumps {}", o.faults->injected(), chaos::describe(schedule));
  if (options.disk)
    faults += fmt::format(", disk faults ({}) {} injected", chaos::describe(disk),
                          chaos::disk_faults_injected() - disk_before);
  return faults;
}

// A worker process: `strata-chaos --worker DIR --first SEED --thread T --ops N`.
pid_t spawn_worker(const std::filesystem::path& dir, std::uint64_t seed, int thread, int ops,
                   const Options& options) {
  std::vector<std::string> args{"/proc/self/exe", "--worker",  dir.string(),         "--first", std::to_string(seed),
                                "--thread",       std::to_string(thread), "--ops", std::to_string(ops)};
  if (options.disk) args.emplace_back("--disk");
  if (options.sentinel) args.emplace_back("--sentinel");
  if (options.failover) args.insert(args.end(), {"--postgres", "--failover"});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}

// The clients of a kill round: worker processes (each opening the host as an
// embedding application would, with the round's faults), SIGKILLed at seeded
// moments and replaced, each journaling what it saw.
std::string run_processes(const Scene& scene, std::uint64_t seed, const Options& options, chaos::History& history) {
  std::mt19937_64 draw(seed ^ 0x6b696c6cULL);
  std::map<pid_t, int> live;  // pid -> client number
  int next_client = 0;
  auto spawn = [&](int ops) {
    pid_t pid = spawn_worker(scene.dir, seed, next_client, ops, options);
    if (pid > 0) live[pid] = next_client;
    ++next_client;
    return pid > 0;
  };
  for (int t = 0; t < options.threads; ++t)
    if (!spawn(options.ops)) history.violation("could not start a worker process");
  // Reaps the workers that ended; an unexpected death is a finding. Only the
  // workers' own pids: --network's thread runs curl, whose exit is not ours.
  auto reap = [&] {
    for (auto it = live.begin(); it != live.end();) {
      int status = 0;
      if (::waitpid(it->first, &status, WNOHANG) != it->first) {
        ++it;
        continue;
      }
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        history.violation(fmt::format("worker {} died on its own (status {:#x})", it->second, status));
      it = live.erase(it);
    }
  };
  const int kills = 2 + static_cast<int>(draw() % 4);
  int killed = 0;
  for (int k = 0; k < kills && !live.empty(); ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + draw() % 600));
    reap();
    if (live.empty()) break;
    auto victim = std::next(live.begin(), static_cast<long>(draw() % live.size()));
    ::kill(victim->first, SIGKILL);
    ::waitpid(victim->first, nullptr, 0);
    live.erase(victim);
    ++killed;
    if (!spawn(options.ops / 2 + 1)) history.violation("could not start a replacement worker");
  }
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300); !live.empty();) {
    reap();
    if (live.empty()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      for (auto [pid, client] : live) {
        history.violation(fmt::format("worker {} did not finish within 300 s", client));
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  chaos::History::read_journals(scene.dir, history);
  auto faults = fmt::format("{} worker processes, {} SIGKILLed mid-run", next_client, killed);
  if (options.disk)
    faults +=
        fmt::format(", disk faults in each worker at its own seeded rates ({} injected in those not killed)",
                    history.disk_faults.load());
  return faults;
}

// Restores each verified backup (the first two) into a host of its own:
// the restore must succeed, hold what the manifest counted, and every send
// acknowledged before the backup began.
std::vector<std::string> check_backups(const Scene& scene, std::uint64_t seed, const Options& options,
                                       const chaos::History& history) {
  std::vector<std::string> violations;
  std::map<std::string, std::int64_t> acked_at;  // text -> when its send returned
  for (const auto& op : history.list_ops)
    if (op.kind == chaos::ListOp::Kind::append && op.completed) acked_at[op.value] = op.completed_ns;
  for (std::size_t i = 0; i < std::min<std::size_t>(history.backups.size(), 2); ++i) {
    const auto& taken = history.backups[i];
    auto dir = scene.dir / fmt::format("restore-{}", i);
    std::filesystem::create_directories(dir);
    std::optional<ScratchDatabase> database;
    std::string wrapped = sqlite_storage(dir);
    if (options.postgres) {
      database.emplace(fmt::format("strata_chaos_{}_{}_restore{}", seed, ::getpid(), i));
      if (!database->error.empty()) {
        violations.push_back(database->error);
        continue;
      }
      wrapped = postgres_storage(test::postgres_port(), database->name);
    }
    auto o = open_scene(dir, faulty_config(dir, seed, wrapped, "wraps = \"memory\"\n"), true);
    if (!o.error.empty()) {
      violations.push_back("opening a host to restore " + taken.dir + " into: " + o.error);
      continue;
    }
    auto restored = o.services->restore(taken.dir, true, Origin{});
    if (!restored) {
      violations.push_back("backup " + taken.dir +
                           " verified but does not restore: " + restored.error().describe());
      continue;
    }
    for (const auto& instance : restored->restored)
      if (instance.role == "storage" && instance.counts != taken.counts)
        violations.push_back(fmt::format("backup {} counted {} and restored {}", taken.dir,
                                         counted(taken.counts), counted(instance.counts)));
    for (const auto& [text, id] : history.acked) {
      auto at = acked_at.find(text);
      if (at == acked_at.end() || at->second >= taken.invoked_ns) continue;
      if (auto found = o.host->storage()->get_message(id); !found)
        violations.push_back(
            fmt::format("send '{}' was acknowledged before backup {} began and is not in it ({})", text,
                        taken.dir, found.error().describe()));
    }
  }
  return violations;
}

// One round; returns its violations.
std::vector<std::string> round(std::uint64_t seed, const Options& options) {
  auto scene = make_scene(seed, options);
  if (!scene->error.empty()) return {scene->error};
  auto o = open_scene(scene->dir, scene->config, true);
  if (!o.error.empty()) return {o.error};
  auto users = register_users(*o.services);
  if (!users) return {"registering the users: " + users.error().describe()};

  chaos::History history;
  std::string faults;
  auto network = options.network ? chaos::network_schedule(seed) : std::vector<chaos::NetworkFault>{};
  if (scene->network) scene->network->play(network);
  auto storage_failover = chaos::failover_schedule(seed, 0),
       cache_failover = chaos::failover_schedule(seed, 1);
  if (scene->storage_failover) scene->storage_failover->play(storage_failover);
  if (scene->cache_failover) scene->cache_failover->play(cache_failover);
  if (options.kill) {
    o = {};  // the workers are the only clients; the checks reopen after them
    faults = run_processes(*scene, seed, options, history);
  } else {
    faults = run_threads(scene->dir, o, *users, seed, options, history);
  }
  // The faults end before the checks: connections whole, groups healed.
  if (scene->network) {
    if (auto refused = scene->network->lift(); !refused.empty()) history.violation(refused);
    faults += ", network faults " + chaos::describe(network);
  }
  for (auto [group, failover, what] :
       {std::tuple{scene->storage_failover.get(), storage_failover, "PostgreSQL"},
        std::tuple{scene->cache_failover.get(), cache_failover, "Redis"}}) {
    if (!group) continue;
    if (auto refused = group->lift(); !refused.empty()) history.violation(refused);
    faults += fmt::format(", {} {}{}", what, chaos::describe(failover),
                          group->happened() ? "" : " (not reached: the clients were done)");
  }
  if (options.kill) {
    o = open_scene(scene->dir, scene->config, false);
    if (!o.error.empty()) return {"reopening after the workers: " + o.error};
  }
  if (auto stuck = drain_audit(o); !stuck.empty()) history.violation(stuck);

  std::vector<std::string> expected;  // with --tamper: what the checkers must report
  if (options.tamper) expected = tamper(o, history);
  auto violations = chaos::check(*o.host, *o.services, *users, history);
  for (auto& v : check_backups(*scene, seed, options, history)) violations.push_back(std::move(v));
  if (options.tamper) {
    std::vector<std::string> missed;
    for (const auto& e : expected)
      if (std::none_of(violations.begin(), violations.end(), [&](const std::string& v) { return caught(v, e); }))
        missed.push_back("not caught: " + e);
    fmt::print("chaos: seed {}: tampered, {} of {} tamperings caught\n", seed, expected.size() - missed.size(),
               expected.size());
    violations = expected.empty() ? std::vector<std::string>{"nothing acknowledged to tamper with"} : missed;
  }
  fmt::print(
      "chaos: seed {}: {} operations ({} failed as injected faults made them), {}, {} sends acknowledged, "
      "{} with outcome unknown, {} reads by sequence, {} backups: {}\n",
      seed, history.ops.load(), history.failed_ops.load(), faults, history.acked.size(),
      history.unknown.size(),
      std::count_if(history.list_ops.begin(), history.list_ops.end(),
                    [](const chaos::ListOp& op) { return op.kind == chaos::ListOp::Kind::read; }),
      history.backups.size(),
      !violations.empty() ? "VIOLATIONS"
      : options.tamper    ? "the checkers caught every tampering"
                          : "every check holds");
  o = {};  // before the database goes
  auto dir = scene->dir;
  if (!violations.empty()) {
    fmt::print("chaos: seed {}: files kept in {}\n", seed, dir.string());
    for (auto [kept, name] : {std::pair{scene->database ? &scene->database->keep : nullptr,
                                        scene->database ? scene->database->name : ""},
                              std::pair{scene->formation ? &scene->formation->keep : nullptr,
                                        scene->formation ? scene->formation->name() : ""}})
      if (kept) {
        *kept = true;
        fmt::print("chaos: seed {}: database {} kept (drop it when done)\n", seed, name);
      }
  }
  scene.reset();
  if (violations.empty()) std::filesystem::remove_all(dir);
  return violations;
}

// A kill round's worker: the round's host and faults, the clients' loop,
// every step journaled; it may be SIGKILLed at any instant.
int worker(const std::filesystem::path& dir, std::uint64_t seed, int thread, int ops,
           const Options& options) {
  std::ifstream in(dir / "chaos.toml");
  std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Opens the host and finds the round's users; "" or why not.
  Opened o;
  std::vector<sdk::User> users;
  auto start = [&]() -> std::string {
    users.clear();
    o = open_scene(dir, config, false);
    if (!o.error.empty()) return o.error;
    for (int i = 0; i < user_count; ++i) {
      auto user = o.services->users().by_username(fmt::format("user{}", i));
      if (!user) return user.error().describe();
      users.push_back(*user);
    }
    return "";
  };
  // With --network the database may be out of reach as the worker starts:
  // it tries again for a while, as an application's supervisor restarts it.
  std::string failed = start();
  for (int tries = 1; !failed.empty() && tries < 100; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    failed = start();
  }
  if (!failed.empty()) {
    fmt::print(stderr, "chaos worker {}: {}\n", thread, failed);
    return 1;
  }
  chaos::History history(dir / fmt::format("history-{:03}.log", thread));
  // Each process's clock jumps, and its disk fails, on its own schedule.
  auto own_seed = seed * 1000 + static_cast<std::uint64_t>(thread);
  o.faults->on();
  if (options.disk) chaos::disk_faults_on(chaos::disk_schedule(own_seed), own_seed);
  {
    chaos::ClockJumper jumper(*o.clock, chaos::clock_schedule(own_seed));
    chaos::run_client(*o.services, clocks(o, options), users, seed, thread, ops, backups_dir(dir, options),
                      history);
  }
  chaos::disk_faults_off();
  o.faults->off();
  if (options.disk) history.disk_faults_injected(chaos::disk_faults_injected());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  std::string worker_dir;
  int worker_thread = 0;
  CLI::App app{"Seeded chaos rounds against Strata's services, with checkers over what clients saw"};
  app.add_option("--seeds", options.seeds, "rounds to run")->check(CLI::Range(1, 100000));
  app.add_option("--first", options.first, "the first round's seed (the others follow)");
  app.add_option("--ops", options.ops, "operations per client")->check(CLI::Range(1, 1000000));
  app.add_option("--threads", options.threads, "clients (threads, or with --kill processes)")
      ->check(CLI::Range(1, 64));
  auto* postgres =
      app.add_flag("--postgres", options.postgres,
                   "the storage on the suite's PostgreSQL test server (a database per round) instead "
                   "of SQLite");
  app.add_flag(
         "--network", options.network,
         "reach PostgreSQL through toxiproxy and fault the connections (latency, resets, silence, cuts)")
      ->needs(postgres);
  app.add_flag("--failover", options.failover,
               "the storage on the pg_auto_failover formation (tools/pg-formation.sh), failed over mid-round "
               "(planned, or the primary killed)")
      ->needs(postgres)
      ->excludes("--network");
  app.add_flag("--sentinel", options.sentinel,
               "the cache on the Redis Sentinel group (tools/redis-sentinel.sh), failed over mid-round");
  app.add_flag("--kill", options.kill,
               "run the clients as processes embedding the host and SIGKILL some of them mid-run");
  app.add_flag(
      "--disk", options.disk,
      "fail the clients' disk writes and syncs (EIO, ENOSPC, short writes) at seeded rates with libfiu");
  app.add_flag("--tamper", options.tamper,
               "check the checkers: lose an acknowledged message, double an audit event and add a stale read "
               "after each round; succeeds when the checkers report all three");
  app.add_option("--worker", worker_dir, "(internal) run one client of a --kill round in this directory");
  app.add_option("--thread", worker_thread, "(internal) the worker's client number");
  CLI11_PARSE(app, argc, argv);
  if (options.disk)
    if (auto refused = chaos::load_disk_wrappers(argv); !refused.empty()) {
      fmt::print(stderr, "strata-chaos: {}\n", refused);
      return 2;
    }
  if (!worker_dir.empty()) return worker(worker_dir, options.first, worker_thread, options.ops, options);

  int failed = 0;
  for (int i = 0; i < options.seeds; ++i) {
    auto seed = options.first + static_cast<std::uint64_t>(i);
    auto violations = round(seed, options);
    if (violations.empty()) continue;
    ++failed;
    for (const auto& v : violations) fmt::print("chaos: seed {}: {}\n", seed, v);
    std::string flags;
    for (auto [on, flag] :
         {std::pair{options.postgres, " --postgres"}, std::pair{options.network, " --network"},
          std::pair{options.failover, " --failover"}, std::pair{options.sentinel, " --sentinel"},
          std::pair{options.kill, " --kill"}, std::pair{options.disk, " --disk"}})
      if (on) flags += flag;
    fmt::print("chaos: replay with: strata-chaos --first {} --seeds 1 --ops {} --threads {}{}\n", seed,
               options.ops, options.threads, flags);
  }
  fmt::print("chaos: {} of {} rounds held every check\n", options.seeds - failed, options.seeds);
  return failed == 0 ? 0 : 1;
}
