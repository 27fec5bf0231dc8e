// The audit pipeline's relay: from the storage's transactional outbox to the
// sink, a batch at a time (strata/services/audit_log.hpp explains the design).

#include "strata/services/audit_log.hpp"

namespace strata {

void AuditLog::outbox_written(std::size_t n) {
  // Only a full batch wakes the flusher early; otherwise the events go with
  // the next flush interval, many per sink call.
  if ((outbox_hint_ += n) >= settings_.batch_size) wake_.notify_one();
}

void AuditLog::relay_outbox(bool always) {
  std::lock_guard relay(relay_mutex_);
  if (!always && outbox_hint_ == 0 && !outbox_backlog_) return;
  bool drop = settings_.on_failure == AuditFailurePolicy::drop;
  outbox_backlog_ = true;  // until a drain comes back short
  for (;;) {
    // Events stay in the outbox while a spooling sink is down: it is the spool.
    if (!drop && !sink_may_answer()) return;
    outbox_hint_ = 0;
    auto delivered = outbox_.storage->drain_outbox(settings_.batch_size, [&](std::span<const sdk::AuditEvent>
                                                                                 events) {
      // Paused since the check above (another thread's append failed while
      // the storage read the batch): the events stay in the outbox. They were
      // counted as dropped and their rows deleted, whatever the policy — lost
      // events, found by chaos rounds with network faults and SIGKILLs. Read
      // once: a pause between two readings would take the drop branch again.
      bool may_answer = sink_may_answer();
      if (!drop && !may_answer)
        return sdk::Result<void>(
            sdk::fail(sdk::ErrorCode::unavailable,
                      "the audit sink is paused after a failure: the events stay in the outbox"));
      if (may_answer) {
        auto stored = sink_->append(events);
        if (stored) {
          written_.add(events.size());
          if (spool_pending_ == 0) sink_answered();
          return stored;
        }
        pause_sink();
        log_(sdk::LogLevel::warning,
             std::string("audit sink failed; ") +
                 (drop ? "dropping events ([audit] on_failure = \"drop\")"
                       : "events wait in the storage's audit outbox until it answers") +
                 ": " + stored.error().describe());
        if (!drop) return stored;
      }
      dropped_.add(events.size());
      return sdk::Result<void>{};
    });
    // A storage that cannot be read now is tried again next interval.
    if (!delivered) return;
    if (*delivered < settings_.batch_size) {
      outbox_backlog_ = false;
      return;
    }
  }
}

}  // namespace strata
