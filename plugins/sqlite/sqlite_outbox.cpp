// The transactional audit outbox (SDK 1.5) on SQLite: events go into
// strata_audit_outbox in the transaction of the messages they describe.
// SQLite has one writer at a time, so drain_outbox holds the write
// transaction while the sink takes the batch: another process's relay waits
// instead of handing over the same rows.

#include <optional>
#include <set>
#include <utility>

#include "sqlite_storage.hpp"

namespace strata::sqlite {
namespace {

#define OUTBOX_COLUMNS "event_id, occurred_at, user_id, ip, action, resource, status, metadata"

// Each event with the sink it is for; an instance relays its sink's events
// and those from before any sink was set ('').
constexpr const char* insert_event_sql =
    "INSERT INTO strata_audit_outbox (" OUTBOX_COLUMNS ", sink) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr const char* take_events_sql =
    "SELECT seq, " OUTBOX_COLUMNS " FROM strata_audit_outbox WHERE sink IN (?2, '') ORDER BY seq LIMIT ?1";
constexpr const char* remove_through_sql = "DELETE FROM strata_audit_outbox WHERE seq <= ?1 AND sink IN (?2, '')";
constexpr const char* count_events_sql = "SELECT count(*) FROM strata_audit_outbox WHERE sink IN (?1, '')";
constexpr const char* oldest_event_sql = "SELECT min(occurred_at) FROM strata_audit_outbox WHERE sink IN (?1, '')";
constexpr const char* user_state_sql = "SELECT username, is_active FROM users WHERE id = ?1";

sdk::AuditEvent event_from(const Row& r) {
  sdk::AuditEvent e;
  e.id = r.uuid(1);
  e.timestamp = r.time(2);
  e.user_id = r.optional_text(3);
  e.ip = r.text(4);
  e.action = r.text(5);
  e.resource = r.text(6);
  e.status = r.text(7) == "failure" ? sdk::AuditStatus::failure : sdk::AuditStatus::success;
  e.metadata = r.text(8);
  return e;
}

}  // namespace

sdk::Result<void> SqliteStorage::insert_with_outbox(std::span<const sdk::Message> messages,
                                                    std::span<const sdk::AuditEvent> events) {
  for (const auto& e : events)
    if (auto ok = sdk::validate(e); !ok) return ok;
  if (messages.size() + events.size() == 0) return {};
  std::lock_guard lock(mutex_);
  return db_->in_transaction([&]() -> sdk::Result<void> {
    if (auto inserted = insert_messages_locked(messages); !inserted) return inserted;
    for (const auto& e : events)
      if (auto r = insert_event_locked(e); !r) return r;
    return {};
  });
}

sdk::Result<void> SqliteStorage::insert_sends(std::span<const sdk::Message> messages,
                                              std::span<const sdk::AuditEvent> events) {
  for (const auto& e : events)
    if (auto ok = sdk::validate(e); !ok) return ok;
  if (messages.size() + events.size() == 0) return {};
  std::lock_guard lock(mutex_);
  // BEGIN IMMEDIATE holds SQLite's one write lock from the check to the
  // commit: no other process deactivates or deletes a user in between.
  return db_->in_transaction([&]() -> sdk::Result<void> {
    std::set<sdk::Uuid> checked;
    for (const auto& m : messages)
      for (const auto* id : {&m.sender_id, &m.recipient_id}) {
        if (!checked.insert(*id).second) continue;
        std::optional<std::pair<std::string, bool>> user;
        auto r = db_->run(user_state_sql, {*id}, [&](const Row& row) {
          user.emplace(row.text(0), !row.null(1) && row.integer(1) != 0);
        });
        if (!r) return sdk::fail(r.error());
        if (!user) return sdk::fail(sdk::ErrorCode::invalid_argument, "no user with id " + id->str());
        if (!user->second)
          return sdk::fail(sdk::ErrorCode::invalid_argument, "user " + sdk::excerpt(user->first, 80) + " is deactivated");
      }
    if (auto inserted = insert_messages_locked(messages); !inserted) return inserted;
    for (const auto& e : events)
      if (auto r = insert_event_locked(e); !r) return r;
    return {};
  });
}

sdk::Result<void> SqliteStorage::insert_event_locked(const sdk::AuditEvent& e) {
  auto r = db_->run(insert_event_sql, {e.id, e.timestamp, e.user_id, e.ip, e.action, e.resource,
                                       std::string(sdk::to_string(e.status)), e.metadata, outbox_sink_});
  if (!r) return sdk::fail(r.error());
  return {};
}

sdk::Result<std::size_t> SqliteStorage::drain_outbox(std::size_t limit, const sdk::OutboxDelivery& deliver) {
  std::lock_guard lock(mutex_);
  std::size_t delivered = 0;
  auto done = db_->in_transaction([&]() -> sdk::Result<void> {
    std::vector<sdk::AuditEvent> events;
    std::int64_t last_seq = 0;
    auto r = db_->run(take_events_sql, {static_cast<std::int64_t>(limit), outbox_sink_}, [&](const Row& row) {
      last_seq = row.integer(0);
      events.push_back(event_from(row));
    });
    if (!r) return sdk::fail(r.error());
    if (events.empty()) return {};
    if (auto ok = deliver(events); !ok) return ok;
    // The oldest rows, in order, with no gaps: nobody else drains meanwhile.
    if (auto removed = db_->run(remove_through_sql, {last_seq, outbox_sink_}); !removed)
      return sdk::fail(removed.error());
    delivered = events.size();
    return {};
  });
  if (!done) return sdk::fail(done.error());
  return delivered;
}

sdk::Result<std::uint64_t> SqliteStorage::outbox_size() {
  std::lock_guard lock(mutex_);
  std::uint64_t n = 0;
  auto r = db_->run(count_events_sql, {outbox_sink_},
                    [&](const Row& row) { n = static_cast<std::uint64_t>(row.integer(0)); });
  if (!r) return sdk::fail(r.error());
  return n;
}

sdk::Result<std::optional<sdk::Timestamp>> SqliteStorage::outbox_oldest() {
  std::lock_guard lock(mutex_);
  std::optional<sdk::Timestamp> oldest;
  auto r = db_->run(oldest_event_sql, {outbox_sink_}, [&](const Row& row) { oldest = row.optional_time(0); });
  if (!r) return sdk::fail(r.error());
  return oldest;
}

sdk::Result<void> SqliteStorage::set_outbox_sink(std::string_view identity) {
  std::lock_guard lock(mutex_);
  outbox_sink_ = identity;
  return {};
}

}  // namespace strata::sqlite
