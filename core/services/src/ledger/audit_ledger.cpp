// The audit ledger's files and sealing (strata/services/audit_ledger.hpp).
//
// In the ledger directory:
//   origin       {"origin": "strata.audit/<host>/<id>", "created": <time>}, made once
//   signing.key  the Ed25519 seed, hex, mode 0600
//   leaves       56 bytes per leaf: the event id (16), its time in milliseconds
//                (8, big-endian: verify --since), and its leaf hash (32)
//   frontier     {"size", "peaks", "checkpoint_size", "checkpoint_at"}: the
//                tree's compact range as of the last seal, so a process
//                appending never reads the whole file (a cache: rebuilt from
//                the leaves when missing or behind)
//   checkpoints  one JSON line per signed checkpoint: {"size", "root", "note"}
// Appends are serialised across processes by an flock on `leaves`.

#include "strata/services/audit_ledger.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "merkle.hpp"
#include "signed_note.hpp"
#include "strata/sdk/private_files.hpp"

namespace strata {

using ledger::CompactRange;
using ledger::Hash;
using sdk::ErrorCode;
using sdk::fail;

namespace {

constexpr std::size_t record_size = 16 + 8 + 32;
constexpr std::size_t max_listed_problems = 100;

struct Leaf {
  sdk::Uuid id;
  std::int64_t at_ms = 0;  // the event's time
  Hash hash;
};

sdk::Unexpected io_error(const std::filesystem::path& path, const char* doing) {
  return fail(ErrorCode::unavailable, "audit ledger: cannot " + std::string(doing) + " " + path.string() + ": " +
                                          std::strerror(errno));
}

// Holds an flock on a descriptor for its scope.
class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~FileLock() { ::flock(fd_, LOCK_UN); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

sdk::Result<std::vector<Leaf>> read_leaves(int fd, std::uint64_t from, std::uint64_t to,
                                           const std::filesystem::path& path) {
  std::vector<Leaf> out;
  out.reserve(to - from);
  std::vector<char> buffer(record_size * 4096);
  for (std::uint64_t i = from; i < to;) {
    std::uint64_t n = std::min<std::uint64_t>(4096, to - i);
    std::size_t want = n * record_size, got = 0;
    while (got < want) {
      ssize_t r = ::pread(fd, buffer.data() + got, want - got, static_cast<off_t>(i * record_size + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return io_error(path, "read");
      got += static_cast<std::size_t>(r);
    }
    for (std::uint64_t k = 0; k < n; ++k) {
      Leaf leaf;
      std::array<std::uint8_t, 16> id{};
      std::memcpy(id.data(), buffer.data() + k * record_size, 16);
      leaf.id = sdk::Uuid(id);
      std::uint64_t at = 0;
      for (int b = 0; b < 8; ++b) at = at << 8 | static_cast<std::uint8_t>(buffer[k * record_size + 16 + b]);
      leaf.at_ms = static_cast<std::int64_t>(at);
      std::memcpy(leaf.hash.data(), buffer.data() + k * record_size + 24, 32);
      out.push_back(leaf);
    }
    i += n;
  }
  return out;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes `text` to `path` through a temporary file and a rename: a reader
// sees the old file or the new one.
sdk::Result<void> replace_file(const std::filesystem::path& path, const std::string& text) {
  auto tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return io_error(tmp, "create");
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return io_error(path, "write");
  return {};
}

sdk::Result<void> append_durably(int fd, const std::string& bytes, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(path, "append to");
    done += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd) != 0) return io_error(path, "sync");
  return {};
}

// A checkpoint note's body: origin, size, base64 root (c2sp.org/tlog-checkpoint).
std::string checkpoint_body(const std::string& origin, std::uint64_t size, const Hash& root) {
  return origin + "\n" + std::to_string(size) + "\n" +
         ledger::base64(std::string_view(reinterpret_cast<const char*>(root.data()), root.size())) + "\n";
}

struct ParsedCheckpoint {
  std::string origin;
  std::uint64_t size = 0;
  Hash root{};
  std::string note;
};

// The checkpoint a note signs, when `key` verifies it and its origin is `origin`.
sdk::Result<ParsedCheckpoint> open_checkpoint(const std::string& note, const ledger::VerifierKey& key,
                                              const std::string& origin) {
  auto text = ledger::open_note(note, key);
  if (!text) return fail(text.error());
  std::istringstream lines(*text);
  ParsedCheckpoint c;
  std::string size, root;
  std::getline(lines, c.origin);
  std::getline(lines, size);
  std::getline(lines, root);
  auto raw = ledger::unbase64(root);
  if (c.origin != origin || size.empty() || size.find_first_not_of("0123456789") != std::string::npos || !raw ||
      raw->size() != 32)
    return fail(ErrorCode::invalid_argument, "a signed checkpoint that is not this ledger's (origin '" + c.origin + "')");
  c.size = std::stoull(size);
  std::memcpy(c.root.data(), raw->data(), 32);
  c.note = note;
  return c;
}

std::string describe(const sdk::AuditEvent& e) {
  return "event " + e.id.str() + " (" + e.action + " at " + e.timestamp.iso8601() + ")";
}

std::string short_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || !name[0]) return "localhost";
  std::string host(name);
  for (char& c : host)
    if (c <= ' ' || c == '+' || c == '/') c = '-';
  return host;
}

}  // namespace

struct AuditLedger::State {
  AuditLedgerSettings settings;
  std::shared_ptr<const sdk::Clock> clock;
  sdk::Logger log;
  std::shared_ptr<sdk::Audit> sink;
  std::string origin;
  sdk::Timestamp created;
  std::optional<ledger::SigningKey> key;
  std::mutex mutex;  // one sealer at a time in this process; the flock serialises processes
  int leaves_fd = -1;

  std::filesystem::path file(const char* name) const { return settings.dir / name; }

  ~State() {
    if (leaves_fd >= 0) ::close(leaves_fd);
  }

  struct Frontier {
    CompactRange range;
    std::uint64_t checkpoint_size = 0;
    std::int64_t checkpoint_at = 0;  // micros
  };

  // The frontier as this process last left it: while no other process
  // appended since, the next seal starts from it without reading a file.
  std::optional<Frontier> cached;

  // Under the flock: the tree as the leaves file has it, caught up from the
  // frontier (this process's, or the file's when another process appended
  // since); a torn last record from a crash is cut off.
  sdk::Result<Frontier> load_frontier() {
    struct stat info {};
    if (::fstat(leaves_fd, &info) != 0) return io_error(file("leaves"), "examine");
    auto bytes = static_cast<std::uint64_t>(info.st_size);
    if (cached && bytes == cached->range.size() * record_size) return *cached;
    Frontier f;
    auto json = nlohmann::json::parse(read_text(file("frontier")), nullptr, false);
    if (json.is_object()) {
      std::vector<Hash> peaks;
      for (const auto& p : json.value("peaks", nlohmann::json::array())) {
        Hash h{};
        if (p.is_string() && ledger::from_hex(p.get<std::string>(), h)) peaks.push_back(h);
      }
      if (auto range = CompactRange::from(json.value("size", std::uint64_t{0}), std::move(peaks))) {
        f.range = std::move(*range);
        f.checkpoint_size = json.value("checkpoint_size", std::uint64_t{0});
        f.checkpoint_at = json.value("checkpoint_at", std::int64_t{0});
      }
    }
    if (bytes % record_size != 0) {
      log(sdk::LogLevel::warning, "audit ledger " + file("leaves").string() + ": cutting off a torn last record");
      bytes -= bytes % record_size;
      if (::ftruncate(leaves_fd, static_cast<off_t>(bytes)) != 0) return io_error(file("leaves"), "truncate");
    }
    std::uint64_t records = bytes / record_size;
    if (records < f.range.size()) {
      // The leaves file lost records the frontier had: never append on top of that.
      return fail(ErrorCode::conflict, "audit ledger " + file("leaves").string() + " holds " + std::to_string(records) +
                                           " leaves but had " + std::to_string(f.range.size()) +
                                           ": it was cut short; `strata audit verify` shows what is missing");
    }
    if (records > f.range.size()) {
      auto tail = read_leaves(leaves_fd, f.range.size(), records, file("leaves"));
      if (!tail) return fail(tail.error());
      for (const auto& leaf : *tail) f.range.append(leaf.hash);
    }
    return f;
  }

  sdk::Result<void> save_frontier(const Frontier& f) {
    nlohmann::json peaks = nlohmann::json::array();
    for (const auto& p : f.range.peaks()) peaks.push_back(ledger::to_hex(p));
    nlohmann::json json = {{"size", f.range.size()},
                           {"peaks", peaks},
                           {"checkpoint_size", f.checkpoint_size},
                           {"checkpoint_at", f.checkpoint_at}};
    auto saved = replace_file(file("frontier"), json.dump() + "\n");
    if (saved) cached = f;
    else cached.reset();
    return saved;
  }

  // Under the flock: signs the tree as it is, appends the checkpoint to the
  // checkpoints file; the note, for the sink.
  sdk::Result<std::string> sign(Frontier& f) {
    Hash root = f.range.root();
    std::string note = key->sign(checkpoint_body(origin, f.range.size(), root));
    nlohmann::json line = {{"size", f.range.size()}, {"root", ledger::to_hex(root)}, {"note", note}};
    auto path = file("checkpoints");
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return io_error(path, "open");
    auto written = append_durably(fd, line.dump() + "\n", path);
    ::close(fd);
    if (!written) return fail(written.error());
    f.checkpoint_size = f.range.size();
    f.checkpoint_at = clock->now().micros();
    return note;
  }

  // The checkpoint's copy in the sink, as a metric sample (so that it adds
  // no event to the trail it signs); a failure is logged, not fatal (the
  // ledger directory holds the checkpoint).
  void send_to_sink(const std::string& note, std::uint64_t size) {
    if (!sink) return;
    sdk::Metric sample;
    sample.timestamp = clock->now();
    sample.name = std::string(checkpoint_metric);
    sample.value = static_cast<double>(size);
    sample.labels = {{"origin", origin}, {"note", note}};
    if (auto r = sink->append_metrics(std::span(&sample, 1)); !r)
      log(sdk::LogLevel::warning, "audit ledger: checkpoint " + std::to_string(size) +
                                      " is in the ledger directory, but the sink did not take its copy: " +
                                      r.error().describe());
  }

  // Appends leaves (none: just a checkpoint) under the flock, and signs a
  // checkpoint when one is due, or when `sign_now` and leaves wait for one.
  sdk::Result<void> append(const std::string& records, const std::vector<Hash>& hashes, bool sign_now) {
    std::optional<std::string> note;
    std::uint64_t size = 0;
    {
      std::lock_guard lock(mutex);
      FileLock flock(leaves_fd);
      auto frontier = load_frontier();
      if (!frontier) return fail(frontier.error());
      if (!records.empty())
        if (auto ok = append_durably(leaves_fd, records, file("leaves")); !ok) return ok;
      for (const auto& h : hashes) frontier->range.append(h);
      const auto waiting = frontier->range.size() - frontier->checkpoint_size;
      const auto interval = std::chrono::duration_cast<std::chrono::microseconds>(settings.checkpoint_interval).count();
      bool due = waiting > 0 && (sign_now || waiting >= settings.checkpoint_every ||
                                 clock->now().micros() - frontier->checkpoint_at >= interval);
      if (!due && hashes.empty()) return {};
      if (due) {
        auto signed_note = sign(*frontier);
        if (!signed_note) return fail(signed_note.error());
        note = std::move(*signed_note);
        size = frontier->range.size();
      }
      if (auto saved = save_frontier(*frontier); !saved) return saved;
    }
    if (note) send_to_sink(*note, size);
    return {};
  }

  // Every leaf, read under the locks.
  sdk::Result<std::vector<Leaf>> leaves_now() {
    std::lock_guard lock(mutex);
    FileLock flock(leaves_fd);
    return all_leaves();
  }

  sdk::Result<std::vector<Leaf>> all_leaves() const {
    struct stat info {};
    if (::fstat(leaves_fd, &info) != 0) return io_error(file("leaves"), "examine");
    return read_leaves(leaves_fd, 0, static_cast<std::uint64_t>(info.st_size) / record_size, file("leaves"));
  }

  // Every checkpoint line of the ledger directory, as written (unverified).
  std::vector<nlohmann::json> checkpoint_lines() const {
    std::vector<nlohmann::json> out;
    std::istringstream lines(read_text(file("checkpoints")));
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) out.push_back(nlohmann::json::parse(line, nullptr, false));
    return out;
  }
};

std::string AuditLedger::leaf_input(const sdk::AuditEvent& e) {
  auto metadata = nlohmann::json::parse(e.metadata, nullptr, false);
  if (metadata.is_discarded()) metadata = e.metadata;  // hashed as the text it is
  nlohmann::json fields = nlohmann::json::array(
      {"strata.audit.event/1", e.id.str(), e.timestamp.micros() / 1000,
       e.user_id ? nlohmann::json(*e.user_id) : nlohmann::json(nullptr), e.ip, e.action, e.resource,
       std::string(sdk::to_string(e.status)), metadata});
  return fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

sdk::Result<std::shared_ptr<AuditLedger>> AuditLedger::open(AuditLedgerSettings settings,
                                                            std::shared_ptr<const sdk::Clock> clock, sdk::Logger log,
                                                            std::shared_ptr<sdk::Audit> sink) {
  auto state = std::make_unique<State>();
  state->settings = std::move(settings);
  state->clock = std::move(clock);
  state->log = std::move(log);
  state->sink = std::move(sink);
  const auto& dir = state->settings.dir;
  if (auto ok = sdk::check_private_directory(dir / "leaves"); !ok) return fail(ok.error());
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(ErrorCode::unavailable, "audit ledger: cannot create " + dir.string() + ": " + ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);

  // The origin is made once, by whichever process comes first (O_EXCL).
  auto origin_path = state->file("origin");
  for (int attempt = 0; attempt < 2 && state->origin.empty(); ++attempt) {
    auto json = nlohmann::json::parse(read_text(origin_path), nullptr, false);
    if (json.is_object() && json.contains("origin") && json.contains("created")) {
      state->origin = json["origin"].get<std::string>();
      state->created = sdk::Timestamp::from_micros(json["created"].get<std::int64_t>());
      break;
    }
    int fd = ::open(origin_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // its maker is writing it
      continue;
    }
    if (fd < 0) return io_error(origin_path, "create");
    std::string origin = "strata.audit/" + short_host() + "/" + sdk::Uuid::generate().str().substr(0, 8);
    std::string text = nlohmann::json{{"origin", origin}, {"created", state->clock->now().micros()}}.dump() + "\n";
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return io_error(origin_path, "write");
  }
  if (state->origin.empty())
    return fail(ErrorCode::invalid_argument, "audit ledger: " + origin_path.string() + " is not a ledger's origin file");

  auto key = ledger::SigningKey::load_or_create(state->file("signing.key"), state->origin);
  if (!key) return fail(key.error());
  state->key = std::move(*key);
  state->leaves_fd =
      ::open(state->file("leaves").c_str(), O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (state->leaves_fd < 0) return io_error(state->file("leaves"), "open");
  return std::shared_ptr<AuditLedger>(new AuditLedger(std::move(state)));
}

AuditLedger::AuditLedger(std::unique_ptr<State> state) : state_(std::move(state)) {
  timer_ = std::thread([this] { run_timer(); });
}

AuditLedger::~AuditLedger() {
  {
    std::lock_guard lock(timer_mutex_);
    stopping_ = true;
  }
  timer_wake_.notify_all();
  timer_.join();
  (void)checkpoint();  // what this process sealed is signed before it goes
}

void AuditLedger::run_timer() {
  std::unique_lock lock(timer_mutex_);
  while (!stopping_) {
    timer_wake_.wait_for(lock, state_->settings.checkpoint_interval);
    if (stopping_) break;
    lock.unlock();
    if (auto r = checkpoint(); !r) state_->log(sdk::LogLevel::warning, "audit ledger: " + r.error().describe());
    lock.lock();
  }
}

sdk::Result<void> AuditLedger::seal(std::span<const sdk::AuditEvent> events) {
  if (events.empty()) return {};
  std::string records;
  records.reserve(events.size() * record_size);
  std::vector<Hash> hashes;
  hashes.reserve(events.size());
  for (const auto& e : events) {
    hashes.push_back(ledger::leaf_hash(leaf_input(e)));
    records.append(reinterpret_cast<const char*>(e.id.bytes().data()), 16);
    auto at = static_cast<std::uint64_t>(e.timestamp.micros() / 1000);
    for (int b = 7; b >= 0; --b) records += static_cast<char>(at >> (8 * b));
    records.append(reinterpret_cast<const char*>(hashes.back().data()), 32);
  }
  return state_->append(records, hashes, false);
}

sdk::Result<void> AuditLedger::checkpoint() { return state_->append({}, {}, true); }

const std::string& AuditLedger::origin() const { return state_->origin; }
std::string AuditLedger::verifier_key() const { return state_->key->verifier_key(); }
const AuditLedgerSettings& AuditLedger::settings() const { return state_->settings; }

sdk::Result<std::string> AuditLedger::latest_checkpoint() const {
  auto lines = state_->checkpoint_lines();
  for (auto it = lines.rbegin(); it != lines.rend(); ++it)
    if (it->is_object() && it->contains("note")) return (*it)["note"].get<std::string>();
  return std::string();
}

sdk::Result<LedgerReport> AuditLedger::verify(sdk::Audit& sink, std::optional<sdk::Timestamp> since) const {
  LedgerReport report;
  report.origin = state_->origin;
  auto problem = [&](std::string kind, std::string detail) {
    ++report.problem_count;
    if (report.problems.size() < max_listed_problems) report.problems.push_back({std::move(kind), std::move(detail)});
  };
  auto vkey = ledger::VerifierKey::parse(verifier_key());
  if (!vkey) return fail(vkey.error());

  // Signed checkpoints: the ledger directory's, and the copies in the sink.
  std::vector<ParsedCheckpoint> checkpoints;
  auto lines = state_->checkpoint_lines();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    auto parsed = line.is_object() && line.contains("note") && line["note"].is_string()
                      ? open_checkpoint(line["note"].get<std::string>(), *vkey, state_->origin)
                      : sdk::Result<ParsedCheckpoint>(fail(ErrorCode::invalid_argument, "not a checkpoint line"));
    if (parsed) checkpoints.push_back(std::move(*parsed));
    else problem("checkpoint_invalid", "checkpoint line " + std::to_string(i + 1) + " of " +
                                           state_->file("checkpoints").string() + ": " + parsed.error().message);
  }
  sdk::MetricQuery in_sink;
  in_sink.name = std::string(checkpoint_metric);
  in_sink.limit = 10'000'000;
  auto sink_checkpoints = sink.query_metrics(in_sink);
  if (!sink_checkpoints) return fail(sink_checkpoints.error());
  for (const auto& sample : *sink_checkpoints) {
    auto origin = sample.labels.find("origin");
    if (origin == sample.labels.end() || origin->second != state_->origin) continue;  // another ledger's
    auto note = sample.labels.find("note");
    auto parsed = note != sample.labels.end()
                      ? open_checkpoint(note->second, *vkey, state_->origin)
                      : sdk::Result<ParsedCheckpoint>(fail(ErrorCode::invalid_argument, "it has no note"));
    if (parsed) checkpoints.push_back(std::move(*parsed));
    else problem("checkpoint_invalid", "the checkpoint in the sink from " + sample.timestamp.iso8601() + ": " +
                                           parsed.error().message);
  }
  report.checkpoints = checkpoints.size();

  // The leaves against every checkpoint, in one pass.
  auto read = state_->leaves_now();
  if (!read) return fail(read.error());
  std::vector<Leaf> leaves = std::move(*read);
  report.leaves = leaves.size();
  std::sort(checkpoints.begin(), checkpoints.end(), [](const auto& a, const auto& b) { return a.size < b.size; });
  if (!checkpoints.empty()) report.checkpoint_size = checkpoints.back().size;
  {
    CompactRange range;
    std::size_t next = 0;
    auto check_due = [&] {
      for (; next < checkpoints.size() && checkpoints[next].size == range.size(); ++next)
        if (range.root() != checkpoints[next].root)
          problem("ledger_altered", "the ledger's first " + std::to_string(range.size()) +
                                        " leaves no longer hash to the root its checkpoint of that size signed: "
                                        "leaves were edited, reordered, inserted or removed");
    };
    check_due();
    for (const auto& leaf : leaves) {
      range.append(leaf.hash);
      check_due();
    }
    if (next < checkpoints.size())
      problem("ledger_cut", "the ledger holds " + std::to_string(leaves.size()) + " leaves, but a checkpoint signs " +
                                std::to_string(checkpoints.back().size) + ": the newest leaves were removed");
  }

  // The sink's events against the leaves.
  sdk::AuditQuery all;
  all.limit = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());  // every event (a SQL LIMIT takes it)
  auto events = sink.query(all);
  if (!events) return fail(events.error());
  std::unordered_map<sdk::Uuid, const sdk::AuditEvent*> by_id;
  for (const auto& e : *events) by_id.emplace(e.id, &e);
  report.events = by_id.size();
  std::unordered_map<sdk::Uuid, Hash> sealed;
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    const auto& leaf = leaves[i];
    auto [earlier, first] = sealed.emplace(leaf.id, leaf.hash);
    if (!first) {
      if (earlier->second == leaf.hash) {
        ++report.redelivered;
        continue;
      }
      problem("ledger_altered", "leaf " + std::to_string(i) + " seals event " + leaf.id.str() +
                                    " again with other content than leaf before it");
      continue;
    }
    auto found = by_id.find(leaf.id);
    if (found == by_id.end() && since && leaf.at_ms < since->micros() / 1000) {
      ++report.expired;  // older than the sink keeps events: gone by its retention, not checked
      continue;
    }
    if (found == by_id.end()) {
      problem("dropped", "event " + leaf.id.str() + " (leaf " + std::to_string(i) +
                             ") is sealed in the ledger but missing from the sink");
      continue;
    }
    if (ledger::leaf_hash(leaf_input(*found->second)) != leaf.hash)
      problem("edited", describe(*found->second) + ", leaf " + std::to_string(i) + ", was changed after it was sealed");
  }
  for (const auto& [id, e] : by_id) {
    if (sealed.contains(id)) continue;
    if (e->timestamp < state_->created) {
      ++report.predating;
      continue;
    }
    problem("inserted", describe(*e) + " is in the sink but was never sealed: inserted, or stored by a process "
                                       "that stopped between storing and sealing it");
  }
  return report;
}

sdk::Result<InclusionProof> AuditLedger::prove(const sdk::Uuid& event) const {
  auto read = state_->leaves_now();
  if (!read) return fail(read.error());
  std::vector<Leaf> leaves = std::move(*read);
  auto note = latest_checkpoint();
  if (!note) return fail(note.error());
  if (note->empty()) return fail(ErrorCode::not_found, "the ledger has no checkpoint yet");
  auto vkey = ledger::VerifierKey::parse(verifier_key());
  if (!vkey) return fail(vkey.error());
  auto checkpoint = open_checkpoint(*note, *vkey, state_->origin);
  if (!checkpoint) return fail(checkpoint.error());
  if (checkpoint->size > leaves.size())
    return fail(ErrorCode::conflict, "the newest checkpoint signs more leaves than the ledger holds: run `strata audit verify`");
  for (std::uint64_t i = 0; i < leaves.size(); ++i) {
    if (leaves[i].id != event) continue;
    if (i >= checkpoint->size)
      return fail(ErrorCode::not_found, "event " + event.str() + " is sealed after the newest checkpoint; sign one "
                                        "(`strata audit checkpoint`) and ask again");
    std::vector<Hash> hashes(leaves.size());
    for (std::size_t k = 0; k < leaves.size(); ++k) hashes[k] = leaves[k].hash;
    InclusionProof proof;
    proof.event_id = event.str();
    proof.index = i;
    proof.tree_size = checkpoint->size;
    proof.leaf_hash = ledger::to_hex(leaves[i].hash);
    proof.root = ledger::to_hex(checkpoint->root);
    for (const auto& h : ledger::inclusion_proof(hashes, i, checkpoint->size)) proof.hashes.push_back(ledger::to_hex(h));
    proof.checkpoint = *note;
    return proof;
  }
  return fail(ErrorCode::not_found, "event " + event.str() + " is not in the ledger " + state_->origin);
}

sdk::Result<ConsistencyProof> AuditLedger::consistency(std::uint64_t old_size, std::uint64_t new_size) const {
  auto read = state_->leaves_now();
  if (!read) return fail(read.error());
  std::vector<Leaf> leaves = std::move(*read);
  if (old_size > new_size || new_size > leaves.size())
    return fail(ErrorCode::invalid_argument, "sizes run from 0 to " + std::to_string(leaves.size()) +
                                                 ", the old one first");
  std::vector<Hash> hashes(leaves.size());
  for (std::size_t k = 0; k < leaves.size(); ++k) hashes[k] = leaves[k].hash;
  ConsistencyProof proof;
  proof.old_size = old_size;
  proof.new_size = new_size;
  proof.old_root = ledger::to_hex(ledger::root_of(std::span(hashes).first(old_size)));
  proof.new_root = ledger::to_hex(ledger::root_of(std::span(hashes).first(new_size)));
  for (const auto& h : ledger::consistency_proof(hashes, old_size, new_size)) proof.hashes.push_back(ledger::to_hex(h));
  return proof;
}

LedgeredAudit::LedgeredAudit(std::shared_ptr<sdk::Audit> sink, std::shared_ptr<AuditLedger> ledger)
    : sink_(std::move(sink)), ledger_(std::move(ledger)) {}

LedgeredAudit::~LedgeredAudit() = default;

sdk::Result<void> LedgeredAudit::append(std::span<const sdk::AuditEvent> events) {
  if (auto stored = sink_->append(events); !stored) return stored;
  // Stored but not sealed (the ledger's disk failed): the caller keeps the
  // events (spool, outbox) and hands them over again; the sink skips them by
  // id, and this seals them.
  if (auto sealed = ledger_->seal(events); !sealed)
    return fail(sealed.error().code, "the audit sink stored the events, but the ledger did not seal them: " +
                                         sealed.error().message);
  return {};
}

}  // namespace strata
