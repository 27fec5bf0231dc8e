// strata-chaos: seeded rounds of clients sending, reading, opening and
// revoking sessions and rotating keys while the `faulty` wrapper fails,
// slows and half-applies the storage's, cache's and audit sink's calls;
// then checkers over what the clients saw (issue 29, item 3).
//
//   strata-chaos [--seeds N] [--first SEED] [--ops N] [--threads N] [--postgres]
//
// The storage is SQLite in a scratch directory, or with --postgres a
// database of the round's own on the suite's PostgreSQL test server
// (tools/services.sh; STRATA_TEST_POSTGRES_PORT).
//
// Each round draws its fault rates from its seed, runs the clients, lifts
// the faults, lets the audit pipeline drain, and checks:
//   - every acknowledged send is stored exactly once and readable, with
//     exactly one audit event; a send whose outcome was unknown (an error)
//     is stored at most once; no message nobody sent; no event without its row;
//   - each recipient's sequence numbers run 1..head without gaps or repeats,
//     one per stored message;
//   - a session whose revoke succeeded is never valid again;
//   - every user has exactly one active key;
//   - isolation: each inbox is a list that sends append to and reads by
//     sequence return; an Elle-style search (list_append_check.hpp) over
//     what the reads saw, the final lists and real time finds any cycle,
//     that is any history that is not strictly serializable.
// A failing round prints its seed; `--first SEED --seeds 1` replays its
// fault schedule (the draws are seeded; thread interleavings are not).

#include <array>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "list_append_check.hpp"
#include "strata/host.hpp"
#include "strata/services.hpp"
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
};

// What the clients saw, recorded as they went.
struct History {
  std::mutex mutex;
  std::map<std::string, sdk::Uuid> acked;  // text -> id of a send that returned ok
  std::set<std::string> unknown;           // texts of sends that returned an error
  std::set<std::string> sent;              // every text any client tried
  std::vector<std::string> violations;     // seen while running (a revoked session valid again)
  std::vector<chaos::ListOp> list_ops;     // sends and reads by sequence, for the isolation check
  std::atomic<int> ops{0}, failed_ops{0};

  void record(chaos::ListOp op) {
    std::lock_guard lock(mutex);
    op.label = fmt::format("{} #{}", op.label, list_ops.size());
    list_ops.push_back(std::move(op));
  }
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What a read by sequence shows of an inbox: its texts in sequence order (one
// that does not open by its id, which no send appended, so the check names it).
std::vector<std::string> list_of(const InboxUpdate& update) {
  std::vector<std::string> texts;
  for (const auto& entry : update.entries)
    texts.push_back(entry.text ? *entry.text : "<unopened " + entry.envelope.id.str() + ">");
  return texts;
}

// The round's fault rates, drawn from its seed.
std::string faulty_config(const std::filesystem::path& dir, std::uint64_t seed, const std::string& wrapped) {
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
      "[cache.default]\nplugin = \"faulty\"\nwraps = \"memory\"\nseed = {seed1}\n"
      "[[cache.default.faults]]\nprobability = {cache:.3f}\nerror = \"unavailable\"\n"
      "[audit]\nplugin = \"faulty\"\nwraps = \"file_audit\"\nseed = {seed2}\nflush_interval_ms = 20\n"
      "[audit.wrapped]\npath = \"{audit}\"\n"
      "[[audit.faults]]\nmethod = \"append\"\nprobability = {stored:.3f}\nerror = \"timeout\"\nafter_commit = true\n"
      "[[audit.faults]]\nmethod = \"append\"\nprobability = {sink:.3f}\nerror = \"unavailable\"\n",
      fmt::arg("key", test_key), fmt::arg("seed", seed), fmt::arg("seed1", seed + 1), fmt::arg("seed2", seed + 2),
      fmt::arg("wrapped", wrapped), fmt::arg("audit", (dir / "audit.jsonl").string()),
      fmt::arg("commit", rate(0.15)), fmt::arg("down", rate(0.1)), fmt::arg("slow", rate(0.1)),
      fmt::arg("cache", rate(0.2)), fmt::arg("sink", rate(0.5)), fmt::arg("stored", rate(0.1)), fmt::arg("retry", std::array{0, 100, 2000}[seed % 3]));
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

void client(Services& services, const std::vector<sdk::User>& users, std::uint64_t seed, int thread, int ops,
            History& history) {
  std::mt19937_64 draw(seed * 1000 + static_cast<std::uint64_t>(thread));
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(draw() % n); };
  std::vector<std::string> tokens;
  std::vector<std::string> revoked;
  for (int i = 0; i < ops; ++i) {
    ++history.ops;
    auto dice = pick(100);
    const auto& user = users[pick(users.size())];
    if (dice < 50) {
      const auto& to = users[(pick(users.size() - 1) + 1 + static_cast<std::size_t>(&user - users.data())) %
                             users.size()];
      std::string text = fmt::format("chaos {} {} {}", seed, thread, i);
      {
        std::lock_guard lock(history.mutex);
        history.sent.insert(text);
      }
      chaos::ListOp op{chaos::ListOp::Kind::append, to.username, text, {}, false, now_ns(), 0,
                       fmt::format("client {} send '{}' to {}", thread, text, to.username)};
      auto sent = services.messages().send(Outgoing{user.id, to.id, text, std::nullopt}, Origin{});
      op.completed = sent.has_value();
      op.completed_ns = now_ns();
      if (!sent) op.label += " (outcome unknown)";
      history.record(std::move(op));
      std::lock_guard lock(history.mutex);
      if (sent) history.acked.emplace(text, sent->id);
      else history.unknown.insert(text);
      if (!sent) ++history.failed_ops;
    } else if (dice < 58) {
      chaos::ListOp op{chaos::ListOp::Kind::read, user.username, {}, {}, true, now_ns(), 0, ""};
      auto update = services.messages().since(user.id, InboxCursor{}, sdk::max_page_limit, Origin{});
      op.completed_ns = now_ns();
      if (!update || update->gap) {
        ++history.failed_ops;
        continue;
      }
      op.observed = list_of(*update);
      op.label = fmt::format("client {} read of {} (saw {})", thread, user.username, op.observed.size());
      history.record(std::move(op));
    } else if (dice < 68) {
      auto session = services.sessions().create(user.id, Origin{});
      if (session) tokens.push_back(session->token);
      else ++history.failed_ops;
    } else if (dice < 76 && !tokens.empty()) {
      auto token = tokens[pick(tokens.size())];
      if (services.sessions().revoke(token, Origin{})) revoked.push_back(token);
      else ++history.failed_ops;
    } else if (dice < 85 && !revoked.empty()) {
      const auto& token = revoked[pick(revoked.size())];
      if (services.sessions().get(token)) {
        std::lock_guard lock(history.mutex);
        history.violations.push_back("a revoked session was valid again (token " + token.substr(0, 8) + "…)");
      }
    } else if (dice < 95) {
      if (!services.keys().rotate(user.id, Origin{})) ++history.failed_ops;
    } else {
      if (!services.messages().inbox(user.id, sdk::PageRequest{50, std::nullopt}, Origin{})) ++history.failed_ops;
    }
  }
}

// Every stored message of every user, by text (decrypted), with its id.
std::vector<std::string> check(Host& host, Services& services, const std::vector<sdk::User>& users,
                               History& history) {
  std::vector<std::string> violations = history.violations;
  std::map<std::string, std::vector<sdk::Uuid>> stored;  // text -> ids
  std::set<sdk::Uuid> stored_ids;
  for (const auto& user : users) {
    std::optional<sdk::Cursor> after;
    for (;;) {
      auto page = services.messages().inbox(user.id, sdk::PageRequest{sdk::max_page_limit, after}, Origin{});
      if (!page) {
        violations.push_back("reading an inbox after the faults: " + page.error().describe());
        break;
      }
      for (const auto& entry : page->items) {
        if (!entry.text) {
          violations.push_back("message " + entry.envelope.id.str() + " unreadable: " + entry.text.error().describe());
          continue;
        }
        stored[*entry.text].push_back(entry.envelope.id);
        stored_ids.insert(entry.envelope.id);
      }
      if (!page->next) break;
      after = page->next;
    }
    // The per-recipient sequence: 1..head, one number per stored message.
    std::uint64_t next = 1, head = 0;
    for (bool more = true; more;) {
      auto stream = host.storage()->inbox_since(user.id, next - 1, sdk::max_page_limit);
      if (!stream) {
        violations.push_back("inbox_since: " + stream.error().describe());
        break;
      }
      head = stream->head;
      for (const auto& item : stream->items)
        if (item.seq != next++) {
          violations.push_back(fmt::format("recipient {}: sequence number {} where {} was due", user.username,
                                           item.seq, next - 1));
          more = false;
          break;
        }
      if (stream->items.empty()) more = false;
    }
    if (head != next - 1)
      violations.push_back(fmt::format("recipient {}: head {} but {} numbered messages", user.username, head,
                                       next - 1));
    // Exactly one active key.
    auto keys = services.keys().all(user.id);
    int active = 0;
    if (keys)
      for (const auto& k : *keys) active += k.is_active;
    if (!keys || active != 1)
      violations.push_back(fmt::format("user {} has {} active keys", user.username, keys ? active : -1));
  }
  for (const auto& [text, id] : history.acked) {
    auto found = stored.find(text);
    std::size_t n = found == stored.end() ? 0 : found->second.size();
    if (n != 1) violations.push_back(fmt::format("acknowledged send '{}' stored {} times", text, n));
    else if (found->second.front() != id)
      violations.push_back(fmt::format("acknowledged send '{}' stored under another id", text));
  }
  for (const auto& text : history.unknown)
    if (stored.contains(text) && stored[text].size() > 1)
      violations.push_back(fmt::format("send '{}' (outcome unknown) stored {} times", text, stored[text].size()));
  for (const auto& [text, ids] : stored)
    if (!history.sent.contains(text)) violations.push_back("a message nobody sent: '" + text + "'");

  // The audit trail: one message.send event per stored message, none for a message not stored.
  std::map<std::string, int> events;
  std::optional<sdk::Timestamp> before;
  for (;;) {
    sdk::AuditQuery query;
    query.action = "message.send";
    query.limit = 10000;
    query.to = before;
    auto page = host.audit()->query(query);
    if (!page) {
      violations.push_back("reading the audit trail: " + page.error().describe());
      break;
    }
    for (const auto& e : *page) ++events[e.resource];
    if (page->size() < query.limit) break;
    before = page->back().timestamp;  // exclusive: events at that very millisecond may repeat; fine for counting ids
  }
  for (const auto& id : stored_ids) {
    int n = events["message:" + id.str()];
    if (n != 1) violations.push_back(fmt::format("message {} has {} message.send events", id.str(), n));
  }
  for (const auto& [resource, n] : events)
    if (!stored_ids.contains(sdk::Uuid::parse(resource.substr(8)).value_or(sdk::Uuid{})))
      violations.push_back("an audit event for a message that is not stored: " + resource);

  // Isolation, over every read by sequence and the final lists.
  std::map<std::string, std::vector<std::string>> final_lists;
  for (const auto& user : users) {
    auto& list = final_lists[user.username];
    for (InboxCursor cursor;;) {
      auto update = services.messages().since(user.id, cursor, sdk::max_page_limit, Origin{});
      if (!update || update->gap) {
        violations.push_back("reading " + user.username + "'s inbox by sequence: " +
                             (update ? std::string("a gap") : update.error().describe()));
        break;
      }
      if (update->entries.empty()) break;
      auto page = list_of(*update);
      list.insert(list.end(), page.begin(), page.end());
      cursor = update->next;
    }
  }
  for (auto& anomaly : chaos::check_list_append(history.list_ops, final_lists))
    violations.push_back("isolation: " + anomaly);
  return violations;
}

// A PostgreSQL database of the round's own on the test server, dropped when it goes.
struct ScratchDatabase {
  std::string name, error;
  explicit ScratchDatabase(std::string n) : name(std::move(n)) {
    if (auto r = admin("CREATE DATABASE " + name); !r.empty()) error = "creating " + name + ": " + r;
  }
  ~ScratchDatabase() { (void)admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  // Runs `sql` on the server's postgres database with psql; its complaint, or "".
  static std::string admin(const std::string& sql) {
    auto command = fmt::format("psql -h 127.0.0.1 -p {} -U postgres -d postgres -Atqc '{}' 2>&1", test::postgres_port(), sql);
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return "cannot run psql";
    char buffer[512];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
    int status = ::pclose(pipe);
    return status == 0 ? std::string() : (out.empty() ? "psql failed" : out);
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

// One round; returns its violations.
std::vector<std::string> round(std::uint64_t seed, const Options& options) {
  auto dir = std::filesystem::temp_directory_path() / fmt::format("strata-chaos-{}-{}", seed, ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  HostOptions host_options;
  host_options.env = [dir](std::string_view name) -> std::optional<std::string> {
    if (name == "STRATA_DATA_DIR") return dir.string();
    return std::nullopt;
  };
  host_options.log = [](sdk::LogLevel, std::string_view) {};  // faults make warnings by design
  std::string wrapped = "wraps = \"sqlite\"\n[storage.wrapped]\npath = \"" + (dir / "strata.db").string() + "\"\n";
  std::optional<ScratchDatabase> database;
  if (options.postgres) {
    database.emplace(fmt::format("strata_chaos_{}_{}", seed, ::getpid()));
    if (!database->error.empty()) return {database->error};
    wrapped = fmt::format("wraps = \"postgres\"\n[storage.wrapped]\nhost = \"127.0.0.1\"\nport = {}\n"
                          "user = \"postgres\"\ndbname = \"{}\"\n",
                          test::postgres_port(), database->name);
  }
  auto host = Host::open_string(faulty_config(dir, seed, wrapped), host_options, "chaos.toml");
  if (!host) return {"the host did not open: " + host.error().describe()};
  Faults faults(**host);
  faults.off();
  if (auto migrated = Services::migrate(**host); !migrated) return {"migrating: " + migrated.error().describe()};
  auto services = Services::open(**host);
  if (!services) return {"the services did not open: " + services.error().describe()};
  std::vector<sdk::User> users;
  for (int i = 0; i < 5; ++i) {
    auto name = fmt::format("user{}", i);
    auto user = (*services)->users().register_user(name, name + "@example.org", name + "-password", Origin{});
    if (!user) return {"registering " + name + ": " + user.error().describe()};
    if (auto key = (*services)->keys().rotate(user->id, Origin{}); !key) return {"a first key: " + key.error().describe()};
    users.push_back(*user);
  }

  History history;
  faults.on();
  std::vector<std::thread> clients;
  for (int t = 0; t < options.threads; ++t)
    clients.emplace_back([&, t] { client(**services, users, seed, t, options.ops, history); });
  for (auto& c : clients) c.join();
  const auto injected = faults.injected();
  faults.off();
  // The sink is back: wait for the relay to hand over what the outbox and the
  // spool kept while it failed (it retries a failed sink after a pause).
  auto& audit = (*services)->audit();
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);;) {
    audit.flush();
    (void)audit.replay_spool();
    auto waiting = (*host)->storage()->outbox_size();
    if (waiting && *waiting == 0 && audit.spooled() == 0) break;
    if (std::chrono::steady_clock::now() > deadline) {
      history.violations.push_back(fmt::format("the audit pipeline did not drain within 60 s of the sink's return "
                                               "({} events in the outbox, {} spooled)",
                                               waiting ? *waiting : 0, audit.spooled()));
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  std::vector<std::string> expected;  // with --tamper: what the checkers must report
  if (options.tamper && history.acked.size() >= 3) {
    // A message lost after it was acknowledged, and an audit event doubled.
    auto lost = history.acked.begin()->second;
    (void)(*host)->storage()->soft_delete_message(lost);
    auto doubled = std::next(history.acked.begin())->second;
    sdk::AuditQuery query;
    query.action = "message.send";
    query.limit = 100000;
    for (auto e : (*host)->audit()->query(query).value_or(std::vector<sdk::AuditEvent>{}))
      if (e.resource == "message:" + doubled.str()) {
        e.id = sdk::Uuid::generate();
        (void)(*host)->audit()->append(std::vector{e});
        break;
      }
    // A read, after a send was acknowledged, that did not see it (stale).
    const auto& acked_text = std::next(history.acked.begin(), 2)->first;
    auto sent = std::find_if(history.list_ops.begin(), history.list_ops.end(),
                             [&](const chaos::ListOp& op) { return op.value == acked_text; });
    chaos::ListOp stale{chaos::ListOp::Kind::read, sent->key, {}, {}, true, sent->completed_ns + 1,
                        sent->completed_ns + 2, "a stale read (tampered)"};
    history.list_ops.push_back(stale);
    expected = {fmt::format("acknowledged send '{}' stored 0 times", history.acked.begin()->first),
                fmt::format("message {} has 2 message.send events", doubled.str()),
                "isolation: G…-realtime: … a stale read (tampered)"};
  }
  auto violations = check(**host, **services, users, history);
  if (options.tamper) {
    std::vector<std::string> missed;
    for (const auto& e : expected)
      if (std::none_of(violations.begin(), violations.end(), [&](const std::string& v) { return caught(v, e); }))
        missed.push_back("not caught: " + e);
    fmt::print("chaos: seed {}: tampered, {} of {} tamperings caught\n", seed, expected.size() - missed.size(),
               expected.size());
    violations = expected.empty() ? std::vector<std::string>{"nothing acknowledged to tamper with"} : missed;
  }
  fmt::print("chaos: seed {}: {} operations ({} failed as injected faults made them), {} faults injected, {} sends "
             "acknowledged, {} with outcome unknown, {} reads by sequence: {}\n",
             seed, history.ops.load(), history.failed_ops.load(), injected, history.acked.size(),
             history.unknown.size(),
             std::count_if(history.list_ops.begin(), history.list_ops.end(),
                           [](const chaos::ListOp& op) { return op.kind == chaos::ListOp::Kind::read; }),
             !violations.empty() ? "VIOLATIONS" : options.tamper ? "the checkers caught every tampering"
                                                                  : "every check holds");
  services->reset();
  host->reset();  // before the database goes
  if (violations.empty()) std::filesystem::remove_all(dir);
  else fmt::print("chaos: seed {}: files kept in {}\n", seed, dir.string());
  return violations;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Seeded chaos rounds against Strata's services, with checkers over what clients saw"};
  app.add_option("--seeds", options.seeds, "rounds to run")->check(CLI::Range(1, 100000));
  app.add_option("--first", options.first, "the first round's seed (the others follow)");
  app.add_option("--ops", options.ops, "operations per client thread")->check(CLI::Range(1, 1000000));
  app.add_option("--threads", options.threads, "client threads")->check(CLI::Range(1, 64));
  app.add_flag("--postgres", options.postgres,
               "the storage on the suite's PostgreSQL test server (a database per round) instead of SQLite");
  app.add_flag("--tamper", options.tamper,
               "check the checkers: lose an acknowledged message and double an audit event after each round; "
               "succeeds when the checkers report both");
  CLI11_PARSE(app, argc, argv);

  int failed = 0;
  for (int i = 0; i < options.seeds; ++i) {
    auto seed = options.first + static_cast<std::uint64_t>(i);
    auto violations = round(seed, options);
    if (violations.empty()) continue;
    ++failed;
    for (const auto& v : violations) fmt::print("chaos: seed {}: {}\n", seed, v);
    fmt::print("chaos: replay with: strata-chaos --first {} --seeds 1 --ops {} --threads {}\n", seed, options.ops,
               options.threads);
  }
  fmt::print("chaos: {} of {} rounds held every check\n", options.seeds - failed, options.seeds);
  return failed == 0 ? 0 : 1;
}
