#pragma once
// Maintenance: the host's scheduler. On the intervals of [maintenance] it
// purges expired messages (the seed runs cleanup_old_messages daily with
// pg_cron; this works on any storage) and writes the metrics gathered since
// the last time as the seed's Metric records through the audit role.

#include "strata/export.hpp"
#include <condition_variable>
#include <mutex>
#include <thread>

#include "strata/services/context.hpp"

namespace strata {

class STRATA_API Maintenance {
 public:
  /// The metrics go out through the context's AuditLog, to its sink; with
  /// no [audit] they are only kept in memory. With `background`, a thread
  /// runs both tasks on their intervals.
  Maintenance(ServiceContext& context, bool background);
  /// Stops the thread and writes the metrics one last time.
  ~Maintenance();
  Maintenance(const Maintenance&) = delete;
  Maintenance& operator=(const Maintenance&) = delete;

  /// Purges expired messages now; how many went.
  sdk::Result<std::uint64_t> purge_expired(const Origin& origin = {});
  /// How many messages purge_expired would delete now, deleting nothing.
  sdk::Result<std::uint64_t> count_expired();
  /// Writes the metrics gathered since the last write; how many records.
  sdk::Result<std::size_t> flush_metrics();

 private:
  void run();

  ServiceContext& ctx_;
  Counter& purged_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace strata
