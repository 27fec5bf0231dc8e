// The per-recipient sequence (SDK 1.10) on SQLite: the trigger of
// schema/sqlite/005_inbox_sequence numbers each message; these read it.

#include "sqlite_storage.hpp"

namespace strata::sqlite {
namespace {

// One statement, so the head and the rows come from one snapshot: the
// messages after ?2 (columns 0-11), then the epoch (12) and the head (13);
// one row of NULL message columns when there are none.
constexpr const char* since_sql =
    "SELECT m.*, e.epoch, coalesce(h.head, 0) FROM strata_inbox_epoch e"
    " LEFT JOIN strata_inbox_heads h ON h.recipient_id = ?1"
    " LEFT JOIN (SELECT " MESSAGE_READ_COLUMNS ", recipient_seq FROM messages"
    " WHERE recipient_id = ?1 AND recipient_seq > ?2 ORDER BY recipient_seq LIMIT ?3) m"
    " ORDER BY m.recipient_seq";
constexpr const char* epoch_sql = "SELECT epoch FROM strata_inbox_epoch";
constexpr const char* head_sql = "SELECT head FROM strata_inbox_heads WHERE recipient_id = ?1";

}  // namespace

sdk::Result<sdk::InboxStream> SqliteStorage::inbox_since(const sdk::Uuid& recipient, std::uint64_t after,
                                                         std::size_t limit) {
  if (limit == 0 || limit > sdk::max_page_limit)
    return fail(sdk::ErrorCode::invalid_argument,
                "limit must be between 1 and " + std::to_string(sdk::max_page_limit));
  std::lock_guard lock(mutex_);
  sdk::InboxStream out;
  auto r = db_->run(since_sql, {recipient, static_cast<std::int64_t>(after), static_cast<std::int64_t>(limit)},
                    [&](const Row& row) {
                      out.epoch = row.text(12);
                      out.head = static_cast<std::uint64_t>(row.integer(13));
                      if (!row.null(0))
                        out.items.push_back({static_cast<std::uint64_t>(row.integer(11)), message_from(row)});
                    });
  if (!r) return sdk::fail(r.error());
  return out;
}

sdk::Result<sdk::InboxHeads> SqliteStorage::inbox_heads(std::span<const sdk::Uuid> recipients) {
  std::lock_guard lock(mutex_);
  sdk::InboxHeads out;
  // One read transaction: the epoch and every head from one snapshot.
  auto read = [&]() -> sdk::Result<void> {
    if (auto r = db_->run(epoch_sql, {}, [&](const Row& row) { out.epoch = row.text(0); }); !r) return sdk::fail(r.error());
    for (const auto& recipient : recipients) {
      std::uint64_t head = 0;
      auto r = db_->run(head_sql, {recipient}, [&](const Row& row) { head = static_cast<std::uint64_t>(row.integer(0)); });
      if (!r) return sdk::fail(r.error());
      out.heads.push_back(head);
    }
    return {};
  };
  if (auto r = db_->exec("BEGIN DEFERRED"); !r) return sdk::fail(r.error());
  auto done = read();
  (void)db_->exec(done ? "COMMIT" : "ROLLBACK");
  if (!done) return sdk::fail(done.error());
  return out;
}

sdk::Result<void> SqliteStorage::start_new_epoch() {
  return db_->exec("UPDATE strata_inbox_epoch SET epoch = lower(hex(randomblob(16)))");
}

}  // namespace strata::sqlite
