// The transactional audit outbox (SDK 1.5) on PostgreSQL: events go into
// strata_audit_outbox in the transaction of the messages they describe, and
// drain_outbox hands them to the relay under FOR UPDATE SKIP LOCKED, so two
// processes relaying at once never hand over the same row.

#include "pg_array.hpp"
#include "pg_rows.hpp"
#include "pg_storage.hpp"

namespace strata::postgres {
namespace {

using Params = std::vector<Param>;

#define OUTBOX_COLUMNS "event_id, occurred_at, user_id, ip, action, resource, status, metadata"

// Any batch of messages and events is one statement: one round trip and one
// commit, like a plain INSERT (BEGIN + two COPYs + COMMIT would be six).
const Statement insert_with_outbox_sql{
    "strata_insert_with_outbox",
    "WITH inserted AS (INSERT INTO messages (id, sender_id, recipient_id, encrypted_content, iv, created_at, "
    "expires_at, is_read, is_deleted, key_id, read_at) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], "
    "$4::bytea[], $5::bytea[], $6::timestamptz[], $7::timestamptz[], $8::boolean[], $9::boolean[], $10::text[], "
    "$11::timestamptz[])) "
    "INSERT INTO strata_audit_outbox (" OUTBOX_COLUMNS ") SELECT * FROM unnest($12::uuid[], $13::timestamptz[], "
    "$14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[])"};
const Statement take_events{"strata_take_outbox",
                            "SELECT seq, " OUTBOX_COLUMNS " FROM strata_audit_outbox ORDER BY seq LIMIT $1"
                            " FOR UPDATE SKIP LOCKED"};
const Statement remove_events{"strata_remove_outbox", "DELETE FROM strata_audit_outbox WHERE seq = ANY($1::bigint[])"};
const Statement count_events{"strata_count_outbox", "SELECT count(*) FROM strata_audit_outbox"};

bool has_nul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

// The 19 array parameters of insert_with_outbox_sql, column by column.
sdk::Result<Params> batch_params(std::span<const sdk::Message> messages, std::span<const sdk::AuditEvent> events) {
  auto column = [](std::uint32_t type, auto&& rows, auto&& value) {
    ArrayParam array(type, rows.size());
    for (const auto& row : rows) array.add(value(row));
    return std::move(array).param();
  };
  using M = sdk::Message;
  using E = sdk::AuditEvent;
  for (const auto& m : messages)
    if (has_nul(m.key_id)) return sdk::fail(sdk::ErrorCode::invalid_argument, "a key id contains a NUL byte");
  for (const auto& e : events)
    for (std::string_view text : {std::string_view(e.ip), std::string_view(e.action), std::string_view(e.resource),
                                  std::string_view(e.metadata)})
      if (has_nul(text) || (e.user_id && has_nul(*e.user_id)))
        return sdk::fail(sdk::ErrorCode::invalid_argument, "audit event " + e.id.str() + " contains a NUL byte");
  return Params{
      column(oid::uuid, messages, [](const M& m) -> const sdk::Uuid& { return m.id; }),
      column(oid::uuid, messages, [](const M& m) -> const sdk::Uuid& { return m.sender_id; }),
      column(oid::uuid, messages, [](const M& m) -> const sdk::Uuid& { return m.recipient_id; }),
      column(oid::bytea, messages, [](const M& m) { return sdk::BytesView(m.encrypted_content); }),
      column(oid::bytea, messages, [](const M& m) { return sdk::BytesView(m.iv); }),
      column(oid::timestamptz, messages, [](const M& m) { return m.created_at; }),
      column(oid::timestamptz, messages, [](const M& m) { return m.expires_at; }),
      column(oid::boolean, messages, [](const M& m) { return m.is_read; }),
      column(oid::boolean, messages, [](const M& m) { return m.is_deleted; }),
      column(oid::text, messages, [](const M& m) { return std::string_view(m.key_id); }),
      column(oid::timestamptz, messages, [](const M& m) { return m.read_at; }),
      column(oid::uuid, events, [](const E& e) -> const sdk::Uuid& { return e.id; }),
      column(oid::timestamptz, events, [](const E& e) { return e.timestamp; }),
      column(oid::text, events, [](const E& e) -> const std::optional<std::string>& { return e.user_id; }),
      column(oid::text, events, [](const E& e) { return std::string_view(e.ip); }),
      column(oid::text, events, [](const E& e) { return std::string_view(e.action); }),
      column(oid::text, events, [](const E& e) { return std::string_view(e.resource); }),
      column(oid::text, events, [](const E& e) { return sdk::to_string(e.status); }),
      column(oid::text, events, [](const E& e) { return std::string_view(e.metadata); }),
  };
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
  auto params = batch_params(messages, events);
  if (!params) return sdk::fail(params.error());
  return write<void>([&](Connection& c) -> sdk::Result<void> {
    if (auto r = c.run(insert_with_outbox_sql, *params); !r) return sdk::fail(r.error());
    return {};
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
