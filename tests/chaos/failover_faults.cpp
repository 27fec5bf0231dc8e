#include "failover_faults.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "test_paths.hpp"

namespace strata::chaos {

using namespace std::chrono_literals;

GroupCommand shell(const std::string& line) {
  GroupCommand ran;
  FILE* pipe = ::popen((line + " 2>&1").c_str(), "r");
  if (!pipe) return {false, "cannot run: " + line};
  std::array<char, 4096> buffer{};
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) ran.out.append(buffer.data(), n);
  ran.ok = ::pclose(pipe) == 0;
  while (!ran.out.empty() && ran.out.back() == '\n') ran.out.pop_back();
  return ran;
}

namespace {

// One statement on the formation primary's postgres database.
GroupCommand on_primary(const std::string& sql) {
  auto primary = group_command("pg-formation.sh", "primary");
  if (!primary.ok || primary.out.empty())
    return {false,
            "the pg_auto_failover formation has no primary (tools/pg-formation.sh start; ctest's "
            "pg_formation fixture): " +
                primary.out};
  return shell(fmt::format("psql -h 127.0.0.1 -p {} -U postgres -d postgres -Atqc '{}'", primary.out, sql));
}

}  // namespace

Failover failover_schedule(std::uint64_t seed, std::uint64_t salt) {
  std::mt19937_64 draw(seed ^ (0x6661696cULL + salt));
  Failover f;
  f.kind = draw() % 2 == 0 ? Failover::Kind::planned : Failover::Kind::primary_killed;
  f.after_ms = std::uniform_int_distribution<int>(100, 1500)(draw);
  return f;
}

std::string describe(const Failover& f) {
  return fmt::format("{} after {} ms",
                     f.kind == Failover::Kind::planned ? "planned failover" : "primary killed", f.after_ms);
}

GroupCommand group_command(const std::string& script, const std::string& command) {
  return shell("bash '" + test::paths::source_dir() + "/tools/" + script + "' " + command);
}

void GroupFailover::play(Failover failover) {
  stop_ = false;
  player_ = std::thread([this, failover] {
    for (int waited = 0; waited < failover.after_ms; waited += 5) {
      if (stop_) return;
      std::this_thread::sleep_for(5ms);
    }
    happened_ = true;
    auto done =
        group_command(script_, failover.kind == Failover::Kind::planned ? "failover" : "kill-primary");
    if (!done.ok && error_.empty()) error_ = script_ + ": the failover did not happen: " + done.out;
  });
}

std::string GroupFailover::lift() {
  if (!player_.joinable()) return error_;
  stop_ = true;
  player_.join();
  // Whatever the failover left: a killed node restarted and caught up.
  if (auto healed = group_command(script_, "heal"); !healed.ok && error_.empty())
    error_ = script_ + ": the group did not heal: " + healed.out;
  return error_;
}

FormationDatabase::FormationDatabase(std::string name) : name_(std::move(name)) {
  if (auto created = on_primary("CREATE DATABASE " + name_); !created.ok) {
    error_ = "creating " + name_ + " on the formation: " + created.out;
    return;
  }
  // libpq tries the URI's hosts in order and gives up at a FATAL from the
  // first (a standby that has not replayed the CREATE yet: synchronous commit
  // waits for its flush, not its replay), so the database must be on both.
  auto secondary = group_command("pg-formation.sh", "secondary");
  for (int tries = 0; secondary.ok && !secondary.out.empty(); ++tries) {
    auto seen = shell(
        fmt::format("psql -h 127.0.0.1 -p {} -U postgres -d {} -Atqc 'SELECT 1'", secondary.out, name_));
    if (seen.ok) break;
    if (tries == 300) {
      error_ = name_ + " did not reach the formation's secondary within 30 s: " + seen.out;
      return;
    }
    std::this_thread::sleep_for(100ms);
  }
  auto uri = group_command("pg-formation.sh", "uri");
  auto at = uri.out.find("/strata?");
  if (!uri.ok || at == std::string::npos) {
    error_ = "the formation's URI: " + uri.out;
    return;
  }
  conninfo_ = uri.out.replace(at + 1, 6, name_);
}

FormationDatabase::~FormationDatabase() {
  if (!keep) (void)on_primary("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
}

}  // namespace strata::chaos
