// Expired-message purge in bounded batches. One unbounded DELETE of a
// million rows holds its row locks and its WAL for the whole run and stalls
// the sends queued behind it (the most-reported retention pain of other
// messaging servers); each batch here is its own short transaction, with a
// pause between batches so concurrent writes get their turn. The seed's
// cleanup_old_messages() stays as the seed wrote it, for pg_cron.

#include <thread>

#include "postgres_rows.hpp"
#include "postgres_storage.hpp"

namespace strata::postgres {
namespace {

// The partial index on expires_at (migration 3) finds each batch; SKIP
// LOCKED lets two purgers (two hosts' schedulers) share the work.
const Statement purge_batch_sql{"strata_purge_expired_batch",
                                "DELETE FROM messages WHERE id IN"
                                " (SELECT id FROM messages WHERE expires_at IS NOT NULL AND expires_at <= $1"
                                "  LIMIT $2 FOR UPDATE SKIP LOCKED)"};
const Statement count_expired_sql{"strata_count_expired",
                                  "SELECT count(*) FROM messages WHERE expires_at IS NOT NULL AND expires_at <= $1"};

using Clock = std::chrono::steady_clock;

}  // namespace

sdk::Result<std::uint64_t> PostgresStorage::purge_expired(sdk::Timestamp now) {
  const auto& settings = pool_.settings();
  const auto started = Clock::now();
  auto reported = started;
  std::uint64_t total = 0, batches = 0;
  for (;;) {
    auto deleted = write<std::uint64_t>(
        [&](Connection& c) -> sdk::Result<std::uint64_t> {
          auto r = c.run(purge_batch_sql, {text(now), std::to_string(settings.purge_batch)});
          if (!r) return sdk::fail(r.error());
          return affected(*r);
        },
        Repeatable::yes);  // a batch cut off is repeated: it deletes only what is still expired
    if (!deleted) {
      auto error = deleted.error();
      if (total > 0) error.message += " (" + std::to_string(total) + " expired messages were purged before it, in " +
                                      std::to_string(batches) + " committed batches)";
      return sdk::fail(std::move(error));
    }
    total += *deleted;
    ++batches;
    if (*deleted < static_cast<std::uint64_t>(settings.purge_batch)) break;
    if (Clock::now() - reported >= std::chrono::seconds(5)) {
      reported = Clock::now();
      log_(sdk::LogLevel::info, "purge: " + std::to_string(total) + " expired messages deleted so far, in " +
                                    std::to_string(batches) + " batches of " + std::to_string(settings.purge_batch));
    }
    if (settings.purge_pause.count() > 0) std::this_thread::sleep_for(settings.purge_pause);
  }
  if (batches > 1)
    log_(sdk::LogLevel::info,
         "purge: " + std::to_string(total) + " expired messages deleted in " + std::to_string(batches) +
             " batches, " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()) +
             " ms");
  return total;
}

sdk::Result<std::uint64_t> PostgresStorage::count_expired(sdk::Timestamp now) {
  return pool_.run<std::uint64_t>(Repeatable::yes, [&](Connection& c) -> sdk::Result<std::uint64_t> {
    auto r = c.run(count_expired_sql, {text(now)});
    if (!r) return sdk::fail(r.error());
    return static_cast<std::uint64_t>(Row(r->get(), 0).int8(0));
  });
}

}  // namespace strata::postgres
