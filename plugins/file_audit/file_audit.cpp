#include "file_audit.hpp"

#include <algorithm>
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
             static_cast<int>(config.get_in_range("keep", 0, 1000)), true};
  auto fsync = config.get<std::string>("fsync");
  if (fsync != "every_batch" && fsync != "never")
    throw sdk::Error{ErrorCode::invalid_argument, "fsync must be \"every_batch\" or \"never\", got \"" + fsync + "\"", {}, false};
  s.fsync_every_batch = fsync == "every_batch";
  return s;
}

FileAudit::FileAudit(const sdk::PluginContext& context) : FileAudit(context, read_settings(context.config)) {}

FileAudit::FileAudit(const sdk::PluginContext& context, const Settings& s)
    : log_(context.log),
      events_(s.path, s.rotate_bytes, s.keep, s.fsync_every_batch),
      metrics_(s.metrics_path, s.rotate_bytes, s.keep, s.fsync_every_batch) {
  auto loaded = events_.scan(
      [&](std::string_view line) {
        if (auto e = event_from(line)) ids_.insert(e->id);
      },
      [](const std::filesystem::path&) {});
  // Start anyway: `strata check` and the first append report the file's problem with its path.
  if (!loaded) log_(sdk::LogLevel::warning, loaded.error().message);
}

sdk::ConfigSchema FileAudit::config_schema() {
  return {
      sdk::field("path", ConfigType::string, "events file (JSON lines); created with its directory").require(),
      sdk::field("metrics_path", ConfigType::string, "metrics file; default: <path stem>.metrics<ext> beside it"),
      sdk::field("fsync", ConfigType::string, "\"every_batch\" (durable when append returns) or \"never\"")
          .or_default("every_batch"),
      sdk::field("rotate_bytes", ConfigType::integer, "rotate the active file past this size").or_default(64LL << 20),
      sdk::field("keep", ConfigType::integer, "rotated files kept (oldest deleted)").or_default(5),
  };
}

sdk::Result<void> FileAudit::health() {
  std::lock_guard lock(mutex_);
  return events_.append("");  // opens (creating) the file for append: proves it is writable
}

sdk::Result<void> FileAudit::append(std::span<const sdk::AuditEvent> events) {
  std::string lines;
  std::vector<sdk::Uuid> fresh;
  std::lock_guard lock(mutex_);
  for (const auto& e : events) {  // validate the whole batch before writing any of it
    if (auto ok = sdk::validate(e); !ok) return ok;
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
  if (lines.empty()) return {};
  if (auto ok = events_.append(lines); !ok) return ok;
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

}  // namespace strata::file_audit
