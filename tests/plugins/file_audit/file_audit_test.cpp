// The file_audit plugin: crash leftovers, rotation, unwritable files, reopen.

#include <fstream>
#include <thread>

#include <strata/sdk/testing/audit_kit.hpp>

#include "test_host.hpp"

using namespace strata;
using sdk::testing::make_event;
using sdk::testing::now_ms;

namespace {

struct TempDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() / ("strata-audit-" + sdk::Uuid::generate().str());
  ~TempDir() { std::filesystem::remove_all(path); }
  std::filesystem::path file() const { return path / "audit.jsonl"; }
  std::string table(const std::string& extra = "") const {
    return "[audit]\nplugin = \"file_audit\"\npath = \"" + file().string() + "\"\n" + extra;
  }
};

}  // namespace

TEST_CASE("file_audit: a torn last line is skipped with a warning, and appends go on", "[file_audit][crash]") {
  TempDir dir;
  {
    auto host = test::open_host(dir.table());
    REQUIRE(host->audit()->append(std::vector{make_event(now_ms(), "before", "u")}));
  }
  // A crash mid-write: half a record, no newline.
  std::ofstream(dir.file(), std::ios::app) << R"({"_id":"1b4e28ba-2fa1-41d2-883f-0016d3cca427","timestamp":"20)";
  std::vector<std::string> warnings;
  HostOptions options;
  options.log = [&](sdk::LogLevel level, std::string_view line) {
    if (level == sdk::LogLevel::warning) warnings.emplace_back(line);
  };
  auto host = test::open_host(dir.table(), options);
  REQUIRE(host->audit()->append(std::vector{make_event(now_ms(), "after", "u")}));
  auto events = host->audit()->query(sdk::AuditQuery{});
  REQUIRE(events);
  REQUIRE(events->size() == 2);
  CHECK(host->audit()->count(sdk::AuditQuery{}).value() == 2);
  REQUIRE_FALSE(warnings.empty());
  CHECK(warnings.front().find("torn or corrupt line") != std::string::npos);
}

TEST_CASE("file_audit: rotation keeps the newest files and queries span them", "[file_audit][rotation]") {
  TempDir dir;
  auto host = test::open_host(dir.table("rotate_bytes = 2048\nkeep = 2\n"));
  for (int i = 0; i < 60; ++i)
    REQUIRE(host->audit()->append(std::vector{make_event(now_ms() + std::chrono::milliseconds(i), "a", "u")}));
  CHECK(std::filesystem::exists(dir.file().string() + ".1"));
  CHECK(std::filesystem::exists(dir.file().string() + ".2"));
  CHECK_FALSE(std::filesystem::exists(dir.file().string() + ".3"));
  auto count = host->audit()->count(sdk::AuditQuery{}).value();
  CHECK(count > 0);
  CHECK(count < 60);  // the oldest rotated away
  sdk::AuditQuery one;
  one.limit = 1;
  auto newest = host->audit()->query(one);
  REQUIRE(newest->size() == 1);
}

TEST_CASE("file_audit: rotation says when it deletes events no backup holds, or refuses to when asked",
          "[file_audit][rotation][hardening]") {
  TempDir dir, backup;
  std::filesystem::create_directories(backup.path);
  std::vector<std::string> warnings;
  HostOptions options;
  options.log = [&](sdk::LogLevel level, std::string_view line) {
    if (level == sdk::LogLevel::warning) warnings.emplace_back(line);
  };
  auto rotated = [&] { return dir.file().string() + ".1"; };
  int sent = 0;
  // Appends one event; true when that append rotated (the active file started again).
  auto append_one = [&](sdk::Audit& audit) {
    std::error_code ec;
    auto before = std::filesystem::file_size(dir.file(), ec);
    auto appended = audit.append(std::vector{make_event(now_ms() + std::chrono::milliseconds(++sent), "a", "u")});
    REQUIRE(appended);
    return !ec && std::filesystem::file_size(dir.file()) < before;
  };
  {
    auto host = test::open_host(dir.table("rotate_bytes = 2048\nkeep = 1\n"), options);
    auto& audit = *host->audit();
    // Two rotations without a backup: the second deletes a file of events nobody backed up.
    for (int rotations = 0; rotations < 2;) rotations += append_one(audit);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("rotation deletes " + rotated()) != std::string::npos);
    CHECK(warnings[0].find("audit event(s) from ") != std::string::npos);
    CHECK(warnings[0].find("that no backup holds") != std::string::npos);

    // Backed up now: the next rotation deletes only what the backup holds, silently.
    warnings.clear();
    REQUIRE(audit.backup(backup.path));
    int after_backup = 0;
    for (bool rotated_now = false; !rotated_now; ++after_backup) rotated_now = append_one(audit);
    CHECK(warnings.empty());
    // The one after deletes the file that was active at the backup: only the
    // events appended to it after the backup are named.
    for (bool rotated_now = false; !rotated_now;) rotated_now = append_one(audit);
    REQUIRE(warnings.size() == 1);
    INFO(warnings[0]);
    CHECK(warnings[0].find("with " + std::to_string(after_backup - 1) + " audit event(s)") != std::string::npos);
  }

  // unbacked_rotation = "refuse": the append that would delete them fails,
  // nothing is deleted, and a backup lets appends go on.
  TempDir strict;
  auto host = test::open_host(strict.table("rotate_bytes = 2048\nkeep = 1\nunbacked_rotation = \"refuse\"\n"));
  auto& audit = *host->audit();
  std::optional<sdk::Error> refused;
  int stored = 0;
  for (int i = 0; i < 200 && !refused; ++i) {
    auto appended = audit.append(std::vector{make_event(now_ms() + std::chrono::milliseconds(i), "a", "u")});
    if (appended) ++stored;
    else refused = appended.error();
  }
  REQUIRE(refused);
  INFO(refused->message);
  CHECK(refused->code == sdk::ErrorCode::conflict);
  CHECK(refused->message.find("not rotating " + strict.file().string() + ".1") != std::string::npos);
  CHECK(refused->message.find("that no backup holds") != std::string::npos);
  CHECK(audit.count(sdk::AuditQuery{}).value() == static_cast<std::uint64_t>(stored));  // nothing deleted
  TempDir strict_backup;
  std::filesystem::create_directories(strict_backup.path);
  REQUIRE(audit.backup(strict_backup.path));
  CHECK(audit.append(std::vector{make_event(now_ms(), "a", "u")}));

  // A value other than the two is refused at start, naming it.
  TempDir wrong;
  auto opened = Host::open_string(wrong.table("unbacked_rotation = \"sometimes\"\n"), HostOptions{}, "wrong.toml");
  REQUIRE_FALSE(opened);
  CHECK(opened.error().message.find("unbacked_rotation must be \"warn\" or \"refuse\"") != std::string::npos);
}

TEST_CASE("file_audit: an unwritable file is unavailable, with the path", "[file_audit]") {
  TempDir dir;
  std::filesystem::create_directories(dir.file());  // a directory where the file should be
  auto host = test::open_host(dir.table());
  auto appended = host->audit()->append(std::vector{make_event(now_ms(), "x", "u")});
  REQUIRE_FALSE(appended);
  CHECK(appended.error().code == sdk::ErrorCode::unavailable);
  CHECK(appended.error().message.find(dir.file().string()) != std::string::npos);
  CHECK_FALSE(host->audit()->health());
}

TEST_CASE("file_audit: events survive a reopen and a retried batch is not doubled", "[file_audit]") {
  TempDir dir;
  std::vector<sdk::AuditEvent> batch{make_event(now_ms(), "a", "u"), make_event(now_ms(), "b", std::nullopt)};
  { REQUIRE(test::open_host(dir.table())->audit()->append(batch)); }
  auto host = test::open_host(dir.table());
  REQUIRE(host->audit()->append(batch));
  CHECK(host->audit()->count(sdk::AuditQuery{}).value() == 2);
  std::ifstream in(dir.file());
  std::string first;
  std::getline(in, first);
  for (const char* field : {"\"_id\"", "\"timestamp\"", "\"userId\"", "\"ip\"", "\"action\"", "\"resource\"", "\"status\"", "\"metadata\""})
    CHECK(first.find(field) != std::string::npos);
}

TEST_CASE("file_audit: a batch another process stored after this one opened is not doubled", "[file_audit]") {
  // Found by strata-chaos --kill: a process relays outbox events to the file,
  // then dies (or is told the append failed) before it deletes them from the
  // outbox; a process that opened earlier relays them again. Their events are
  // newer than its opening, so it did not look at the file and wrote them twice.
  TempDir dir;
  auto first = test::open_host(dir.table());
  REQUIRE(first->audit()->append(std::vector{make_event(now_ms(), "first's own", "u")}));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::vector<sdk::AuditEvent> relayed{make_event(now_ms(), "relayed", "u"), make_event(now_ms(), "also", "u")};
  { REQUIRE(test::open_host(dir.table())->audit()->append(relayed)); }
  REQUIRE(first->audit()->append(relayed));  // the same events, handed over again
  REQUIRE(first->audit()->append(std::vector{make_event(now_ms(), "after", "u")}));
  CHECK(first->audit()->count(sdk::AuditQuery{}).value() == 4);
  std::ifstream in(dir.file());
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  CHECK(lines == 4);
}

TEST_CASE("file_audit: events stamped by a clock ahead of this process's are not doubled", "[file_audit]") {
  // Found by strata-chaos --kill with clock jumps: a process whose clock ran
  // ahead (or before the machine's clock was stepped back) stored events; a
  // process that opened later was handed them again by the outbox relay.
  // Stamped after its opening time, they looked newer than anything on disk.
  TempDir dir;
  auto ahead = sdk::Timestamp::now() + std::chrono::hours(2);
  std::vector<sdk::AuditEvent> relayed{make_event(ahead, "relayed", "u"), make_event(ahead, "also", "u")};
  { REQUIRE(test::open_host(dir.table())->audit()->append(relayed)); }
  auto later = test::open_host(dir.table());
  REQUIRE(later->audit()->append(relayed));  // handed over again
  REQUIRE(later->audit()->append(std::vector{make_event(now_ms(), "its own", "u")}));
  std::ifstream in(dir.file());
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  CHECK(lines == 3);
}

TEST_CASE("file_audit: opening and appending new events never read the history", "[file_audit][hardening]") {
  TempDir dir;
  std::vector<sdk::AuditEvent> old{make_event(now_ms(), "old", "u")};
  { REQUIRE(test::open_host(dir.table())->audit()->append(old)); }
  // History that cannot be read: a rotated "file" that is a directory. Every
  // command once scanned the whole log when it opened the sink (1.9 s per
  // `strata send` at 58 MB); now nothing reads it until a query, or a replay
  // of events older than the sink's opening, needs it.
  std::filesystem::create_directories(dir.path / "audit.jsonl.1");
  std::vector<std::string> warnings;
  HostOptions options;
  options.log = [&](sdk::LogLevel level, std::string_view line) {
    if (level >= sdk::LogLevel::warning) warnings.emplace_back(line);
  };
  auto host = test::open_host(dir.table(), options);
  REQUIRE(host->audit()->append(std::vector{make_event(sdk::Timestamp::now() + std::chrono::seconds(1), "new", "u")}));
  CHECK(warnings.empty());
  // A replayed batch (older than the opening) does look at what is on disk, to stay exactly-once.
  auto replayed = host->audit()->append(old);
  REQUIRE_FALSE(replayed);
  CHECK(replayed.error().message.find("audit.jsonl.1") != std::string::npos);
  std::filesystem::remove_all(dir.path / "audit.jsonl.1");
  REQUIRE(host->audit()->append(old));
  CHECK(host->audit()->count(sdk::AuditQuery{}).value() == 2);
}

TEST_CASE("file_audit: files restored from a backup, and the backup's copies, are owner-only",
          "[file_audit][backup][hardening]") {
  TempDir dir, backup;
  auto host = test::open_host(dir.table("rotate_bytes = 2048\nkeep = 2\n"));
  for (int i = 0; i < 40; ++i)
    REQUIRE(host->audit()->append(std::vector{make_event(now_ms() + std::chrono::milliseconds(i), "a", "u")}));
  std::filesystem::create_directories(backup.path);
  auto report = host->audit()->backup(backup.path);
  REQUIRE(report);
  using std::filesystem::perms;
  for (const auto& file : report->files) {
    INFO(file);
    CHECK((std::filesystem::status(backup.path / file).permissions() & (perms::group_all | perms::others_all)) ==
          perms::none);
    // A copy that lost its mode on the way (an archive, another user's tools): 0644.
    std::filesystem::permissions(backup.path / file, perms::owner_read | perms::owner_write | perms::group_read |
                                                         perms::others_read);
  }
  REQUIRE(host->audit()->restore(backup.path));
  for (const auto& entry : std::filesystem::directory_iterator(dir.path)) {
    INFO(entry.path());
    CHECK((entry.status().permissions() & (perms::group_all | perms::others_all)) == perms::none);
  }
}

TEST_CASE("file_audit: a directory others may write to is refused, and a planted link is never written through",
          "[file_audit][hardening]") {
  TempDir dir;
  using std::filesystem::perms;
  std::filesystem::create_directories(dir.path);
  std::filesystem::permissions(dir.path, perms::all);  // 0777
  CHECK(test::open_error(dir.table()).message.find("others can write to it") != std::string::npos);

  std::filesystem::permissions(dir.path, perms::owner_all);
  TempDir elsewhere;
  std::filesystem::create_directories(elsewhere.path);
  std::ofstream(elsewhere.path / "victim") << "precious\n";
  std::filesystem::create_symlink(elsewhere.path / "victim", dir.file());
  auto host = test::open_host(dir.table());
  auto appended = host->audit()->append(std::vector{make_event(now_ms(), "a", "u")});
  REQUIRE_FALSE(appended);
  CHECK(appended.error().message.find(dir.file().string()) != std::string::npos);
  std::ifstream victim(elsewhere.path / "victim");
  std::string content((std::istreambuf_iterator<char>(victim)), {});
  CHECK(content == "precious\n");
}

TEST_CASE("file_audit: a sink with nothing written yet backs up to files a restore takes", "[file_audit][backup]") {
  // A backup taken before the first event reached the sink once listed no
  // file, and the services refused to restore it ("nothing to restore it from").
  TempDir dir, backup;
  auto host = test::open_host(dir.table());
  std::filesystem::create_directories(backup.path);
  auto report = host->audit()->backup(backup.path);
  INFO((report ? std::string() : report.error().describe()));
  REQUIRE(report);
  CHECK(report->files == std::vector<std::string>{"events.jsonl", "metrics.jsonl"});
  CHECK(report->counts.at("events") == 0);
  REQUIRE(host->audit()->append(std::vector{make_event(now_ms(), "later", "u")}));
  REQUIRE(host->audit()->restore(backup.path));
  CHECK_FALSE(host->audit()->has_data().value());
}
