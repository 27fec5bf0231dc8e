// The transactional audit outbox (SDK 1.5) on PostgreSQL: events go into
// strata_audit_outbox in the transaction of the messages they describe, and
// drain_outbox hands them to the relay under FOR UPDATE SKIP LOCKED, so two
// processes relaying at once never hand over the same row.

#include "pg_copy.hpp"
#include "pg_rows.hpp"
#include "pg_storage.hpp"

namespace strata::postgres {
namespace {

using Params = std::vector<Param>;

#define OUTBOX_COLUMNS "event_id, occurred_at, user_id, ip, action, resource, status, metadata"

// The common lone write (one message and its event, as a single send makes
// it) is one statement: one round trip and one commit, like a plain INSERT.
const Statement insert_message_and_event{
    "strata_insert_message_and_event",
    "WITH inserted AS (INSERT INTO messages (id, sender_id, recipient_id, encrypted_content, iv, created_at, "
    "expires_at, is_read, is_deleted, key_id, read_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)) "
    "INSERT INTO strata_audit_outbox (" OUTBOX_COLUMNS ") VALUES ($12, $13, $14, $15, $16, $17, $18, $19)"};
const Statement insert_event{"strata_insert_outbox_event", "INSERT INTO strata_audit_outbox (" OUTBOX_COLUMNS
                                                           ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"};
const Statement take_events{"strata_take_outbox",
                            "SELECT seq, " OUTBOX_COLUMNS " FROM strata_audit_outbox ORDER BY seq LIMIT $1"
                            " FOR UPDATE SKIP LOCKED"};
const Statement remove_events{"strata_remove_outbox", "DELETE FROM strata_audit_outbox WHERE seq = ANY($1::bigint[])"};
const Statement count_events{"strata_count_outbox", "SELECT count(*) FROM strata_audit_outbox"};

void append_event_params(Params& params, const sdk::AuditEvent& e) {
  params.insert(params.end(), {e.id.str(), text(e.timestamp), e.user_id, e.ip, e.action, e.resource,
                               std::string(sdk::to_string(e.status)), e.metadata});
}

sdk::AuditEvent event_from(const Row& r) {
  sdk::AuditEvent e;
  e.id = r.uuid(1);
  e.timestamp = r.time(2);
  if (!r.null(3)) e.user_id = r.str(3);
  e.ip = r.str(4);
  e.action = r.str(5);
  e.resource = r.str(6);
  e.status = r.str(7) == "failure" ? sdk::AuditStatus::failure : sdk::AuditStatus::success;
  e.metadata = r.str(8);
  return e;
}

}  // namespace

sdk::Result<void> PostgresStorage::insert_with_outbox(std::span<const sdk::Message> messages,
                                                      std::span<const sdk::AuditEvent> events) {
  for (const auto& e : events)
    if (auto ok = sdk::validate(e); !ok) return ok;
  if (messages.size() + events.size() == 0) return {};
  if (messages.size() <= 1 && events.size() == 1) {
    Params params = messages.empty() ? Params{} : message_params(messages.front());
    append_event_params(params, events.front());
    const auto& statement = messages.empty() ? insert_event : insert_message_and_event;
    return pool_.run<void>(Repeatable::no, [&](Connection& c) -> sdk::Result<void> {
      if (auto r = c.run(statement, params); !r) return sdk::fail(r.error());
      return {};
    });
  }
  auto rows = encode_messages(messages);
  if (!rows) return sdk::fail(rows.error());
  auto outbox = encode_outbox_events(events);
  if (!outbox) return sdk::fail(outbox.error());
  return pool_.run<void>(Repeatable::no, [&](Connection& c) -> sdk::Result<void> {
    return in_transaction(c, [&]() -> sdk::Result<void> {
      if (!messages.empty())
        if (auto r = c.copy_in(copy_messages_sql, *rows); !r) return r;
      if (!events.empty()) return c.copy_in(copy_outbox_sql, *outbox);
      return {};
    });
  });
}

sdk::Result<std::size_t> PostgresStorage::drain_outbox(std::size_t limit, const sdk::OutboxDelivery& deliver) {
  return pool_.run<std::size_t>(Repeatable::no, [&](Connection& c) -> sdk::Result<std::size_t> {
    std::size_t delivered = 0;
    auto done = in_transaction(c, [&]() -> sdk::Result<void> {
      auto rows = c.run(take_events, {std::to_string(limit)});
      if (!rows) return sdk::fail(rows.error());
      int n = PQntuples(rows->get());
      if (n == 0) return {};
      std::vector<sdk::AuditEvent> events;
      events.reserve(static_cast<std::size_t>(n));
      std::string seqs = "{";
      for (int i = 0; i < n; ++i) {
        Row row(rows->get(), i);
        events.push_back(event_from(row));
        seqs += (i ? "," : "") + std::to_string(row.int8(0));
      }
      seqs += "}";
      // The rows stay locked (and in the table) while the sink works: a
      // crash here leaves them for the next relay; the sink dedupes by id.
      if (auto ok = deliver(events); !ok) return ok;
      if (auto r = c.run(remove_events, {seqs}); !r) return sdk::fail(r.error());
      delivered = events.size();
      return {};
    });
    if (!done) return sdk::fail(done.error());
    return delivered;
  });
}

sdk::Result<std::uint64_t> PostgresStorage::outbox_size() {
  return pool_.run<std::uint64_t>(Repeatable::yes, [&](Connection& c) -> sdk::Result<std::uint64_t> {
    auto r = c.run(count_events, {});
    if (!r) return sdk::fail(r.error());
    return static_cast<std::uint64_t>(Row(r->get(), 0).int8(0));
  });
}

}  // namespace strata::postgres
