// The audit pipeline: queue, flusher, and the spool file.

#include "strata/services/audit_log.hpp"

#include "encoding.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "erasure/personal_fields.hpp"
#include "group_commit.hpp"
#include "json_codec.hpp"

namespace strata {
namespace {

using sdk::ErrorCode;
using sdk::fail;

// How long a failed sink is left alone: by this process, and by the
// processes that start meanwhile (they cannot see when it comes back).
constexpr auto retry_pause = std::chrono::seconds(1);
constexpr auto shared_pause = std::chrono::seconds(10);

std::int64_t wall_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An open file descriptor holding an exclusive flock, closed on scope exit.
// The spool file exists only while it holds events: the replay that empties
// it removes it, under the lock. So a process that was waiting for the lock
// checks, once it has it, that the file it locked is still the one at the
// path, and otherwise locks that one (or finds none).
class LockedFile {
 public:
  /// Opens (creating it and its directory) and locks the file at `path`.
  static sdk::Result<LockedFile> create(const std::filesystem::path& path, int flags) {
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    auto file = lock(path, flags | O_CREAT);
    if (!file) return sdk::fail(file.error());
    return std::move(**file);
  }
  /// Opens and locks the file at `path`; nothing when there is none.
  static sdk::Result<std::optional<LockedFile>> existing(const std::filesystem::path& path, int flags) {
    return lock(path, flags & ~O_CREAT);
  }
  LockedFile(LockedFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ~LockedFile() {
    if (fd_ >= 0) ::close(fd_);  // also releases the flock
  }
  int fd() const { return fd_; }

  static sdk::Unexpected io_failure(const std::filesystem::path& path, const char* doing, int error) {
    return fail(ErrorCode::unavailable,
                "audit spool '" + path.string() + "': cannot " + doing + ": " + std::strerror(error));
  }

 private:
  explicit LockedFile(int fd) : fd_(fd) {}

  static sdk::Result<std::optional<LockedFile>> lock(const std::filesystem::path& path, int flags) {
    for (;;) {
      int fd = ::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, 0600);  // never write through a planted link
      if (fd < 0 && errno == ENOENT && !(flags & O_CREAT)) return std::nullopt;
      if (fd < 0) return io_failure(path, "open", errno);
      if (::flock(fd, LOCK_EX) != 0) {
        int e = errno;
        ::close(fd);
        return io_failure(path, "lock", e);
      }
      struct stat held {}, current {};
      if (::fstat(fd, &held) == 0 && ::lstat(path.c_str(), &current) == 0 && held.st_ino == current.st_ino &&
          held.st_dev == current.st_dev)
        return std::optional<LockedFile>(LockedFile(fd));
      ::close(fd);  // emptied and removed while this process waited: look again
    }
  }

  int fd_;
};

sdk::Result<std::string> read_all(int fd, const std::filesystem::path& path) {
  std::string text;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return LockedFile::io_failure(path, "read", errno);
    if (n == 0) return text;
    text.append(buffer, static_cast<std::size_t>(n));
  }
}

sdk::Result<void> write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return LockedFile::io_failure(path, "write", errno);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::size_t count_lines(const std::filesystem::path& path) {
  auto file = LockedFile::existing(path, O_RDONLY);
  if (!file || !*file) return 0;
  auto text = read_all((*file)->fd(), path);
  if (!text) return 0;
  return static_cast<std::size_t>(std::count(text->begin(), text->end(), '\n'));
}

}  // namespace

AuditLog::AuditLog(std::shared_ptr<sdk::Audit> sink, AuditLogSettings settings,
                   std::shared_ptr<const sdk::Clock> clock, std::shared_ptr<Metrics> metrics, sdk::Logger log,
                   AuditOutbox outbox, std::shared_ptr<DataKeys> data_keys)
    : sink_(std::move(sink)),
      settings_(std::move(settings)),
      clock_(std::move(clock)),
      metrics_(std::move(metrics)),
      log_(std::move(log)),
      written_(metrics_->counter("strata_audit_events_total", "Audit events by what became of them.",
                                 {{"outcome", "written"}})),
      spooled_(metrics_->counter("strata_audit_events_total", "", {{"outcome", "spooled"}})),
      replayed_(metrics_->counter("strata_audit_events_total", "", {{"outcome", "replayed"}})),
      dropped_(metrics_->counter("strata_audit_events_total", "", {{"outcome", "dropped"}})),
      failed_(metrics_->counter("strata_audit_events_total", "", {{"outcome", "failed"}})),
      lost_(metrics_->counter("strata_audit_events_total", "", {{"outcome", "lost"}})),
      outbox_(std::move(outbox)) {
  if (data_keys && data_keys->sealing()) personal_ = std::make_shared<PersonalFields>(std::move(data_keys));
  if (!sink_) log_(sdk::LogLevel::warning, "no [audit] in the config: audit events are counted, not kept");
  if (sink_ && settings_.on_failure == AuditFailurePolicy::spool) {
    // Events a crashed or cut-off process left behind go out first.
    spool_pending_ = count_lines(settings_.spool_path);
  }
  if (sink_) {
    // A sink another process found down moments ago is not asked again yet.
    std::ifstream marker(pause_marker());
    std::int64_t until = 0;
    auto longest = wall_micros() + std::chrono::duration_cast<std::chrono::microseconds>(shared_pause).count();
    if (marker >> until && until > wall_micros()) retry_after_ = std::min(until, longest);
  }
  flusher_ = std::thread([this] { run(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  flusher_.join();
}

namespace {

// The longest text an event copies from input (a username, an email, an IP
// a proxy passed on): one hostile call must not write megabytes into the
// trail and push older history out of rotation.
constexpr std::size_t max_field_bytes = 1024;

// `text`, or its first max_field_bytes with a marker naming its length and
// SHA-256, so that the whole value can still be recognised.
std::string bounded_field(std::string text) {
  if (text.size() <= max_field_bytes) return text;
  std::string digest = detail::sha256_hex(sdk::as_bytes(text)).substr(0, 16);
  std::string marker = "…[truncated: " + std::to_string(text.size()) + " bytes, sha256 " + digest + "…]";
  text.resize(max_field_bytes);
  return text + marker;
}

void bound_strings(nlohmann::json& value) {
  if (value.is_string()) value = bounded_field(value.get<std::string>());
  else if (value.is_structured())
    for (auto& item : value) bound_strings(item);
}

}  // namespace

sdk::AuditEvent AuditLog::event(const AuditRecord& record, const Origin& origin) const {
  sdk::AuditEvent event;
  event.id = sdk::Uuid::generate();
  event.timestamp = clock_->now();
  if (record.user_id) event.user_id = record.user_id->str();
  event.ip = origin.ip.empty() ? "unknown" : bounded_field(origin.ip);
  event.action = record.action;
  event.resource = bounded_field(record.resource);
  event.status = record.status;
  nlohmann::json metadata = record.metadata;
  // The trace this event happened in (W3C traceparent): the services call's
  // span when tracing is on, else what the application passed.
  if (auto context = current_trace_context())
    metadata["traceparent"] = context->traceparent();
  else if (TraceContext::parse(origin.traceparent))
    metadata["traceparent"] = origin.traceparent;
  bound_strings(metadata);
  if (personal_) personal_->protect(event, metadata);
  // Never throws on text that is not UTF-8 (it is replaced, U+FFFD): an event must be recordable whatever a caller passed.
  event.metadata = metadata.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return event;
}

void AuditLog::reveal(sdk::AuditEvent& event) const {
  if (personal_) personal_->reveal(event);
}

sdk::Result<std::string> AuditLog::pseudonym(std::string_view field, std::string_view value) const {
  if (!personal_)
    return sdk::fail(sdk::ErrorCode::invalid_argument,
                     "events keep personal fields in clear without [erasure] per_user_keys: nothing is pseudonymised");
  return personal_->pseudonym(field, value);
}

sdk::Result<void> AuditLog::record(const AuditRecord& record, const Origin& origin) {
  auto event = this->event(record, origin);
  if (!sink_) {
    dropped_.add();
    return {};
  }
  if (outbox_.writes) {
    // Durable before the operation returns; if the storage cannot take it,
    // the event goes the in-memory way below instead of being lost.
    if (outbox_.writes->write({}, {event})) {
      outbox_written(1);
      return {};
    }
  }
  if (settings_.on_failure == AuditFailurePolicy::block) {
    auto stored = sink_->append(std::span(&event, 1));
    if (!stored) {
      failed_.add();
      return fail(stored.error().code, "the audit sink did not store the event, so the operation is refused "
                                       "([audit] on_failure = \"block\"): " + stored.error().describe());
    }
    written_.add();
    return {};
  }
  std::unique_lock lock(mutex_);
  if (queue_.size() >= settings_.queue_size) {
    if (settings_.on_failure == AuditFailurePolicy::drop) {
      dropped_.add();
      return {};
    }
    wake_.notify_one();
    idle_.wait(lock, [&] { return queue_.size() < settings_.queue_size || stopping_; });
  }
  queue_.push_back(std::move(event));
  if (queue_.size() >= settings_.batch_size) wake_.notify_one();
  return {};
}

void AuditLog::flush() {
  {
    std::unique_lock lock(mutex_);
    ++flush_waiters_;
    wake_.notify_one();
    idle_.wait(lock, [&] { return queue_.empty() && in_flight_ == 0; });
    --flush_waiters_;
  }
  if (outbox_.storage) relay_outbox(true);
}

std::size_t AuditLog::spooled() const { return spool_pending_; }

sdk::Result<void> AuditLog::append_metrics(std::span<const sdk::Metric> metrics) {
  if (!sink_)
    return sdk::fail(sdk::ErrorCode::invalid_argument, "the config has no [audit] to write metrics to");
  return sink_->append_metrics(metrics);
}

std::filesystem::path AuditLog::pause_marker() const {
  auto marker = settings_.spool_path;
  return marker += ".paused";
}

bool AuditLog::sink_may_answer() const { return wall_micros() >= retry_after_.load(); }

void AuditLog::pause_sink() {
  using std::chrono::microseconds;
  retry_after_ = wall_micros() + std::chrono::duration_cast<microseconds>(retry_pause).count();
  std::ofstream marker(pause_marker(), std::ios::trunc);
  marker << wall_micros() + std::chrono::duration_cast<microseconds>(shared_pause).count() << "\n";
}

void AuditLog::sink_answered() {
  std::error_code ec;
  std::filesystem::remove(pause_marker(), ec);  // the next processes ask the sink again
}

void AuditLog::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, settings_.flush_interval,
                   [&] {
                     return stopping_ || queue_.size() >= settings_.batch_size ||
                            (flush_waiters_ > 0 && !queue_.empty()) || outbox_hint_ >= settings_.batch_size;
                   });
    if (queue_.empty()) {
      if (stopping_) break;
      lock.unlock();
      // The outbox goes once events were written (every flush interval, or
      // as soon as a batch waits), and while a backlog is left (at start:
      // what a crashed process left; after a sink failure: what waited).
      if (outbox_.storage) relay_outbox(false);
      if (spool_pending_ > 0 && sink_may_answer()) (void)replay_spool();
      lock.lock();
      continue;
    }
    std::size_t n = std::min(queue_.size(), settings_.batch_size);
    std::vector<sdk::AuditEvent> batch(std::make_move_iterator(queue_.begin()),
                                       std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    in_flight_ = n;
    idle_.notify_all();  // room in the queue
    lock.unlock();
    deliver(batch);
    lock.lock();
    in_flight_ = 0;
    idle_.notify_all();
  }
  lock.unlock();
  if (outbox_.storage) relay_outbox(true);
  // Last chance for what an outage left in the spool, unless the sink is
  // known down; what stays is replayed by the next process.
  if (spool_pending_ > 0 && sink_may_answer()) (void)replay_spool();
}

void AuditLog::deliver(std::vector<sdk::AuditEvent>& batch) {
  if (settings_.on_failure == AuditFailurePolicy::drop) {
    if (!sink_may_answer()) {
      dropped_.add(batch.size());
      return;
    }
    if (auto r = sink_->append(batch); r) {
      written_.add(batch.size());
    } else {
      pause_sink();
      dropped_.add(batch.size());
      log_(sdk::LogLevel::warning, "audit sink failed; dropped " + std::to_string(batch.size()) +
                                       " events ([audit] on_failure = \"drop\"): " + r.error().describe());
    }
    return;
  }
  // spool: older spooled events go first, so the sink sees everything in order.
  bool may_answer = sink_may_answer();
  bool clear = spool_pending_ == 0 || (may_answer && replay_spool().has_value() && spool_pending_ == 0);
  if (clear && may_answer) {
    auto r = sink_->append(batch);
    if (r) {
      written_.add(batch.size());
      return;
    }
    pause_sink();
    log_(sdk::LogLevel::warning, "audit sink failed; spooling to " + settings_.spool_path.string() +
                                     " until it answers: " + r.error().describe());
  }
  if (auto spooled = append_to_spool(batch); spooled) {
    spooled_.add(batch.size());
  } else {
    lost_.add(batch.size());
    log_(sdk::LogLevel::error, "LOST " + std::to_string(batch.size()) +
                                   " audit events: the sink and the spool both failed: " +
                                   spooled.error().describe());
  }
}

sdk::Result<void> AuditLog::append_to_spool(const std::vector<sdk::AuditEvent>& batch) {
  std::lock_guard lock(spool_mutex_);
  auto file = LockedFile::create(settings_.spool_path, O_WRONLY | O_APPEND);
  if (!file) return sdk::fail(file.error());
  std::string lines;
  for (const auto& event : batch) lines += detail::event_to_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (auto r = write_all(file->fd(), lines, settings_.spool_path); !r) return r;
  if (::fsync(file->fd()) != 0) return LockedFile::io_failure(settings_.spool_path, "fsync", errno);
  spool_pending_ += batch.size();
  return {};
}

sdk::Result<std::size_t> AuditLog::replay_spool() {
  std::lock_guard lock(spool_mutex_);
  return replay_locked();
}

sdk::Result<std::size_t> AuditLog::replay_locked() {
  if (!sink_) return std::size_t{0};
  auto opened = LockedFile::existing(settings_.spool_path, O_RDWR);
  if (!opened) return sdk::fail(opened.error());
  if (!*opened) {  // nothing spooled
    spool_pending_ = 0;
    sink_answered();
    return std::size_t{0};
  }
  auto& file = **opened;
  auto text = read_all(file.fd(), settings_.spool_path);
  if (!text) return sdk::fail(text.error());
  std::vector<sdk::AuditEvent> events;
  std::size_t start = 0;
  while (start < text->size()) {
    std::size_t end = text->find('\n', start);
    if (end == std::string::npos) {
      // A line torn by a crash mid-write was never acknowledged: skip it.
      log_(sdk::LogLevel::warning, "audit spool '" + settings_.spool_path.string() + "': skipping a torn last line");
      break;
    }
    auto json = nlohmann::json::parse(text->begin() + static_cast<std::ptrdiff_t>(start),
                                      text->begin() + static_cast<std::ptrdiff_t>(end), nullptr, false);
    auto event = json.is_discarded() ? std::nullopt : detail::event_from_json(json);
    if (event) events.push_back(std::move(*event));
    else log_(sdk::LogLevel::warning, "audit spool '" + settings_.spool_path.string() + "': skipping a malformed line");
    start = end + 1;
  }
  // In order, batch by batch. A failure midway leaves the whole file: the
  // batches already sent are skipped by id when it is replayed again.
  for (std::size_t i = 0; i < events.size(); i += settings_.batch_size) {
    std::size_t n = std::min(settings_.batch_size, events.size() - i);
    auto r = sink_->append(std::span(events).subspan(i, n));
    if (!r) {
      pause_sink();
      spool_pending_ = events.size();
      return sdk::fail(r.error());
    }
  }
  // Emptied: the file goes (under the lock; see LockedFile). Should the
  // removal not survive a crash, the events are replayed again and the sink
  // skips them by id.
  if (::unlink(settings_.spool_path.c_str()) != 0)
    return LockedFile::io_failure(settings_.spool_path, "remove", errno);
  spool_pending_ = 0;
  sink_answered();
  replayed_.add(events.size());
  if (!events.empty())
    log_(sdk::LogLevel::info, "audit sink is back: replayed " + std::to_string(events.size()) + " spooled events");
  return events.size();
}

}  // namespace strata
