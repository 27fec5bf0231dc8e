#include "file_audit.hpp"

#include "strata/sdk/private_files.hpp"

#include "file_audit_settings.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <tuple>
#include <nlohmann/json.hpp>

namespace strata::file_audit {
namespace {

using nlohmann::json;
using sdk::ConfigType;
using sdk::ErrorCode;
using sdk::fail;

std::filesystem::path metrics_path_for(const sdk::ConfigView& config) {
  if (auto explicit_path = config.find<std::string>("metrics_path")) return *explicit_path;
  std::filesystem::path events = config.get<std::string>("path");
  return events.parent_path() / (events.stem().string() + ".metrics" + events.extension().string());
}

std::optional<sdk::AuditEvent> event_from(std::string_view line) {
  auto j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    sdk::AuditEvent e;
    auto id = sdk::Uuid::parse(j.at("_id").get<std::string>());
    auto at = sdk::Timestamp::parse(j.at("timestamp").get<std::string>());
    if (!id || !at) return std::nullopt;
    e.id = *id;
    e.timestamp = *at;
    if (!j.at("userId").is_null()) e.user_id = j.at("userId").get<std::string>();
    e.ip = j.at("ip").get<std::string>();
    e.action = j.at("action").get<std::string>();
    e.resource = j.at("resource").get<std::string>();
    e.status = j.at("status").get<std::string>() == "failure" ? sdk::AuditStatus::failure : sdk::AuditStatus::success;
    e.metadata = j.at("metadata").dump();
    return e;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

bool in_range(sdk::Timestamp t, const std::optional<sdk::Timestamp>& from, const std::optional<sdk::Timestamp>& to) {
  return (!from || t >= *from) && (!to || t < *to);
}

}  // namespace

// The validated config, read once for both files.
FileAudit::Settings FileAudit::read_settings(const sdk::ConfigView& config) {
  Settings s{config.get<std::string>("path"), metrics_path_for(config),
             static_cast<std::uintmax_t>(config.get_in_range("rotate_bytes", 1024, 1LL << 40)),
             static_cast<int>(config.get_in_range("keep", 0, 1000)), true, false};
  auto fsync = config.get<std::string>("fsync");
  if (fsync != "every_batch" && fsync != "never")
    throw sdk::Error{ErrorCode::invalid_argument, "fsync must be \"every_batch\" or \"never\", got \"" + fsync + "\"", {}, false};
  s.fsync_every_batch = fsync == "every_batch";
  auto unbacked = config.get<std::string>("unbacked_rotation");
  if (unbacked != "warn" && unbacked != "refuse")
    throw sdk::Error{ErrorCode::invalid_argument,
                     "unbacked_rotation must be \"warn\" or \"refuse\", got \"" + sdk::excerpt(unbacked, 40) + "\"", {},
                     false};
  s.refuse_unbacked_rotation = unbacked == "refuse";
  return s;
}

sdk::Result<void> FileAudit::before_drop(const std::filesystem::path& file, std::uintmax_t backed_up_bytes,
                                         bool refuse) {
  // The events past what the last backup holds, and their time range.
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};  // gone meanwhile: nothing is deleted
  in.seekg(static_cast<std::streamoff>(backed_up_bytes));
  std::uint64_t events = 0;
  std::optional<sdk::Timestamp> first, last;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    ++events;
    if (auto e = event_from(line)) {
      if (!first || e->timestamp < *first) first = e->timestamp;
      if (!last || e->timestamp > *last) last = e->timestamp;
    }
  }
  if (events == 0) return {};
  std::string what = std::to_string(events) + " audit event(s)" +
                     (first ? " from " + first->iso8601() + " to " + last->iso8601() : std::string()) +
                     " that no backup holds";
  if (refuse)
    return fail(ErrorCode::conflict, "not rotating " + file.string() + ": it would delete " + what +
                                         " (unbacked_rotation = \"refuse\"); back up the audit trail (`strata "
                                         "backup`), or raise keep or rotate_bytes");
  log_(sdk::LogLevel::warning, "rotation deletes " + file.string() + " with " + what +
                                   "; back up more often, raise keep or rotate_bytes, or set unbacked_rotation = "
                                   "\"refuse\" to keep them");
  return {};
}

namespace {

// The newest "timestamp" among the lines in the last MiB of `path` (none
// when it is empty or absent). Found by --kill chaos rounds whose processes'
// clocks jump on their own: a process relayed events another had stored,
// stamped by a clock ahead of its own opening time, so it took them for
// events newer than anything on disk and wrote them twice. The same befalls
// one machine whose clock is stepped back between the first store and a
// process's opening. Only the file's end is read (opening never reads the
// history): the events a relay hands over again are the recent ones.
std::optional<sdk::Timestamp> newest_recent_timestamp(const std::filesystem::path& path) {
  constexpr std::streamoff window = 1 << 20;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return std::nullopt;
  std::streamoff size = in.tellg();
  if (size <= 0) return std::nullopt;
  in.seekg(std::max<std::streamoff>(0, size - window));
  std::string tail(static_cast<std::size_t>(std::min(size, window)), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  tail.resize(static_cast<std::size_t>(in.gcount()));
  std::optional<sdk::Timestamp> newest;
  constexpr std::string_view key = "\"timestamp\":\"";
  for (auto at = tail.find(key); at != std::string::npos; at = tail.find(key, at + 1)) {
    auto start = at + key.size(), end = tail.find('"', start);
    if (end == std::string::npos) break;
    if (auto t = sdk::Timestamp::parse(std::string_view(tail).substr(start, end - start));
        t && (!newest || *t > *newest))
      newest = *t;
  }
  return newest;
}

}  // namespace

FileAudit::FileAudit(const sdk::PluginContext& context) : FileAudit(context, read_settings(context.config)) {}

FileAudit::FileAudit(const sdk::PluginContext& context, const Settings& s)
    : log_(context.log),
      events_(s.path, s.rotate_bytes, s.keep, s.fsync_every_batch),
      metrics_(s.metrics_path, s.rotate_bytes, s.keep, s.fsync_every_batch) {
  // Where others may write, a link planted as audit.jsonl would send the trail into another file.
  for (const auto* path : {&s.path, &s.metrics_path})
    if (auto ok = sdk::check_private_directory(*path); !ok) throw ok.error();
  events_.watch();  // from now on, what other processes append is shown to append()
  opened_at_ = context.clock->now();
  if (auto newest = newest_recent_timestamp(s.path); newest && *newest > opened_at_) opened_at_ = *newest;
  events_.before_drop([this, refuse = s.refuse_unbacked_rotation](const std::filesystem::path& file,
                                                                  std::uintmax_t backed_up_bytes) {
    return before_drop(file, backed_up_bytes, refuse);
  });
}

sdk::Result<void> FileAudit::load_ids_on_disk() {
  auto loaded = events_.scan(
      [&](std::string_view line) {
        if (auto e = event_from(line)) ids_.insert(e->id);
      },
      [](const std::filesystem::path&) {});
  if (!loaded) return loaded;
  all_ids_loaded_ = true;
  return {};
}

sdk::ConfigSchema FileAudit::config_schema() { return audit_schema(); }

sdk::Result<std::string> FileAudit::sink_identity() {
  std::error_code ec;
  auto path = std::filesystem::weakly_canonical(std::filesystem::absolute(events_.path()), ec);
  if (ec) return fail(ErrorCode::unavailable, "cannot resolve " + events_.path().string() + ": " + ec.message());
  return "file:" + path.string();
}

sdk::Result<void> FileAudit::health() {
  std::lock_guard lock(mutex_);
  return events_.append("");  // opens (creating) the file for append: proves it is writable
}

sdk::Result<void> FileAudit::append(std::span<const sdk::AuditEvent> events) {
  std::vector<sdk::Uuid> fresh;
  std::lock_guard lock(mutex_);
  // Only an event from before this instance opened can already be on disk
  // without being in ids_ or among what other processes appended since:
  // then, once, every id on disk is read.
  if (!all_ids_loaded_ &&
      std::any_of(events.begin(), events.end(), [&](const auto& e) { return e.timestamp <= opened_at_; }))
    if (auto loaded = load_ids_on_disk(); !loaded) return loaded;
  // Under the file's lock: the ids other processes appended since this one
  // last wrote (a batch they relayed, or one they stored and then failed to
  // report) join ids_ before this batch is filtered by them.
  auto written = events_.append_after([&](const std::optional<std::string>& others) -> sdk::Result<std::string> {
    if (!others) {
      if (auto loaded = load_ids_on_disk(); !loaded) return sdk::fail(loaded.error());
    } else {
      std::size_t start = 0;
      for (std::size_t end; (end = others->find('\n', start)) != std::string::npos; start = end + 1)
        if (auto e = event_from(std::string_view(*others).substr(start, end - start))) ids_.insert(e->id);
    }
    std::string lines;
    for (const auto& e : events) {  // validate the whole batch before writing any of it
      if (auto ok = sdk::validate(e); !ok) return sdk::fail(ok.error());
      auto metadata = json::parse(e.metadata, nullptr, false);
      if (metadata.is_discarded() || !metadata.is_object())
        return fail(ErrorCode::invalid_argument, "audit event " + e.id.str() + " metadata is not a JSON object");
      if (ids_.contains(e.id) || std::find(fresh.begin(), fresh.end(), e.id) != fresh.end()) continue;
      json line{{"_id", e.id.str()},
                {"timestamp", e.timestamp.iso8601()},
                {"userId", e.user_id ? json(*e.user_id) : json(nullptr)},
                {"ip", e.ip},
                {"action", e.action},
                {"resource", e.resource},
                {"status", std::string(sdk::to_string(e.status))},
                {"metadata", metadata}};
      // error_handler::replace: invalid UTF-8 in a string cannot break the line.
      lines += line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
      fresh.push_back(e.id);
    }
    return lines;
  });
  if (!written) return written;
  ids_.insert(fresh.begin(), fresh.end());
  return {};
}

sdk::Result<void> FileAudit::append_metrics(std::span<const sdk::Metric> metrics) {
  std::string lines;
  for (const auto& m : metrics) {
    if (m.name.empty()) return fail(ErrorCode::invalid_argument, "a metric needs a name");
    json line{{"timestamp", m.timestamp.iso8601()}, {"name", m.name}, {"value", m.value}, {"labels", m.labels}};
    lines += line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  }
  std::lock_guard lock(mutex_);
  if (lines.empty()) return {};
  return metrics_.append(lines);
}

sdk::Result<std::vector<sdk::AuditEvent>> FileAudit::matching(const sdk::AuditQuery& q) {
  std::vector<sdk::AuditEvent> out;
  std::size_t skipped = 0;
  auto scanned = events_.scan(
      [&](std::string_view line) {
        auto e = event_from(line);
        if (!e) {
          ++skipped;
          return;
        }
        if (in_range(e->timestamp, q.from, q.to) && (!q.user_id || e->user_id == q.user_id) &&
            (!q.action || e->action == *q.action) && (!q.status || e->status == *q.status))
          out.push_back(std::move(*e));
      },
      [&](const std::filesystem::path&) { ++skipped; });
  if (!scanned) return sdk::fail(scanned.error());
  if (skipped)
    log_(sdk::LogLevel::warning, "skipped " + std::to_string(skipped) + " torn or corrupt line(s) in " +
                                     events_.path().string() + " (a crash mid-write leaves one)");
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return std::tie(a.timestamp, a.id) > std::tie(b.timestamp, b.id); });
  return out;
}

sdk::Result<std::vector<sdk::AuditEvent>> FileAudit::query(const sdk::AuditQuery& q) {
  std::lock_guard lock(mutex_);
  auto found = matching(q);
  if (found && found->size() > q.limit) found->resize(q.limit);
  return found;
}

sdk::Result<std::uint64_t> FileAudit::count(const sdk::AuditQuery& q) {
  std::lock_guard lock(mutex_);
  auto found = matching(q);
  if (!found) return sdk::fail(found.error());
  return static_cast<std::uint64_t>(found->size());
}

sdk::Result<std::vector<sdk::Metric>> FileAudit::query_metrics(const sdk::MetricQuery& q) {
  std::lock_guard lock(mutex_);
  std::vector<sdk::Metric> out;
  auto scanned = metrics_.scan(
      [&](std::string_view line) {
        auto j = json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) return;
        try {
          auto at = sdk::Timestamp::parse(j.at("timestamp").get<std::string>());
          if (!at) return;
          sdk::Metric m{*at, j.at("name").get<std::string>(), j.at("value").get<double>(),
                        j.at("labels").get<std::map<std::string, std::string>>()};
          if ((!q.name || m.name == *q.name) && in_range(m.timestamp, q.from, q.to)) out.push_back(std::move(m));
        } catch (const json::exception&) {
        }
      },
      [](const std::filesystem::path&) {});
  if (!scanned) return sdk::fail(scanned.error());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.timestamp > b.timestamp; });
  if (out.size() > q.limit) out.resize(q.limit);
  return out;
}

// ---- backup (SDK 1.2): the files themselves ----------------------------------

sdk::Result<std::map<std::string, std::uint64_t>> FileAudit::line_counts() {
  std::map<std::string, std::uint64_t> counts{{"events", 0}, {"metrics", 0}};
  auto ignore_torn = [](const std::filesystem::path&) {};
  if (auto r = events_.scan([&](std::string_view) { ++counts["events"]; }, ignore_torn); !r) return sdk::fail(r.error());
  if (auto r = metrics_.scan([&](std::string_view) { ++counts["metrics"]; }, ignore_torn); !r) return sdk::fail(r.error());
  return counts;
}

sdk::Result<sdk::BackupReport> FileAudit::backup(const std::filesystem::path& dir) {
  std::lock_guard lock(mutex_);  // no append from this process while the files are copied
  sdk::BackupReport report{{}, {}, ""};
  for (auto [lines, name, what] : {std::tuple{&events_, "events.jsonl", "events"},
                                   std::tuple{&metrics_, "metrics.jsonl", "metrics"}}) {
    auto written = lines->copy_to(dir, name);
    if (!written) return sdk::fail(written.error());
    // Nothing written yet (a new sink, its events still in the outbox): an
    // empty file says so, so the backup has what a restore takes (without a
    // file the restore refused the instance as having nothing to restore from).
    if (written->empty()) {
      int fd = ::open((dir / name).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0) return sdk::fail(sdk::ErrorCode::unavailable, "cannot create " + (dir / name).string() + ": " +
                                                                     std::strerror(errno));
      ::close(fd);
      written->push_back(name);
    }
    // Counted in the copies: another process may append to the originals meanwhile.
    std::uint64_t complete = 0;  // lines with their newline; a torn last one is not a record
    for (const auto& file : *written) {
      std::ifstream in(dir / file, std::ios::binary);
      complete += static_cast<std::uint64_t>(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
    }
    report.counts[what] = complete;
    report.files.insert(report.files.end(), written->begin(), written->end());
  }
  return report;
}

sdk::Result<sdk::BackupReport> FileAudit::restore(const std::filesystem::path& dir) {
  std::lock_guard lock(mutex_);
  if (auto r = events_.replace_from(dir, "events.jsonl"); !r) return sdk::fail(r.error());
  if (auto r = metrics_.replace_from(dir, "metrics.jsonl"); !r) return sdk::fail(r.error());
  ids_.clear();
  if (auto loaded = load_ids_on_disk(); !loaded) return sdk::fail(loaded.error());
  auto counts = line_counts();
  if (!counts) return sdk::fail(counts.error());
  return sdk::BackupReport{{}, std::move(*counts), ""};
}

sdk::Result<bool> FileAudit::has_data() {
  std::lock_guard lock(mutex_);
  auto counts = line_counts();
  if (!counts) return sdk::fail(counts.error());
  return (*counts)["events"] > 0 || (*counts)["metrics"] > 0;
}

}  // namespace strata::file_audit
