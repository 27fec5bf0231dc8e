// The host's scheduler: purge and metrics flush.

#include "strata/services/maintenance.hpp"

namespace strata {

using sdk::ErrorCode;

Maintenance::Maintenance(ServiceContext& context, bool background)
    : ctx_(context),
      purged_(context.metrics->counter("strata_messages_purged_total",
                                       "Expired messages purged by maintenance.")) {
  const auto& s = ctx_.settings.maintenance;
  if (background && (s.purge_interval.count() > 0 || s.metrics_interval.count() > 0))
    thread_ = std::thread([this] { run(); });
}

Maintenance::~Maintenance() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  if (auto r = flush_metrics(); !r)
    ctx_.log(sdk::LogLevel::warning, "metrics not written at shutdown: " + r.error().describe());
}

sdk::Result<std::uint64_t> Maintenance::count_expired() { return ctx_.storage->count_expired(ctx_.clock->now()); }

sdk::Result<std::uint64_t> Maintenance::purge_expired(const Origin& origin) {
  auto purged = ctx_.storage->purge_expired(ctx_.clock->now());
  if (!purged) return purged;
  purged_.add(*purged);
  if (*purged > 0) {
    auto recorded = ctx_.audit->record(
        AuditRecord{std::nullopt, "maintenance.purge", "messages", sdk::AuditStatus::success, {{"purged", *purged}}},
        origin);
    if (!recorded) return sdk::fail(recorded.error());
  }
  return purged;
}

sdk::Result<std::size_t> Maintenance::flush_metrics() {
  if (!ctx_.audit->has_sink()) return std::size_t{0};
  // A sink that just failed is not waited on (at a CLI command's exit, that was seconds).
  if (ctx_.audit->sink_paused())
    return sdk::fail(ErrorCode::unavailable, "the audit sink failed moments ago; not waiting on it (the metrics stay for a later flush in this process)");
  auto records = ctx_.metrics->drain(ctx_.clock->now());
  if (records.empty()) return std::size_t{0};
  if (auto r = ctx_.audit->append_metrics(records); !r) {
    ctx_.metrics->undrain(std::move(records));  // next time
    return sdk::fail(r.error());
  }
  return records.size();
}

void Maintenance::run() {
  using clock = std::chrono::steady_clock;
  const auto& s = ctx_.settings.maintenance;
  auto next_purge = clock::now() + s.purge_interval;
  auto next_metrics = clock::now() + s.metrics_interval;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto due = clock::time_point::max();
    if (s.purge_interval.count() > 0) due = std::min(due, next_purge);
    if (s.metrics_interval.count() > 0) due = std::min(due, next_metrics);
    wake_.wait_until(lock, due, [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    auto now = clock::now();
    if (s.purge_interval.count() > 0 && now >= next_purge) {
      if (auto r = purge_expired(); !r)
        ctx_.log(sdk::LogLevel::warning, "scheduled purge failed (retried next interval): " + r.error().describe());
      next_purge = now + s.purge_interval;
    }
    if (s.metrics_interval.count() > 0 && now >= next_metrics) {
      if (auto r = flush_metrics(); !r)
        ctx_.log(sdk::LogLevel::warning, "metrics flush failed (kept for the next one): " + r.error().describe());
      next_metrics = now + s.metrics_interval;
    }
    lock.lock();
  }
}

}  // namespace strata
