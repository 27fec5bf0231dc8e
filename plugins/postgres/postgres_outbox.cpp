// The transactional audit outbox (SDK 1.5) on PostgreSQL: the events of a
// batch go into strata_audit_outbox_batches as one row of parallel arrays
// (migration 7), in the transaction of the messages they describe, and
// drain_outbox hands them to the relay under FOR UPDATE SKIP LOCKED, so two
// processes relaying at once never hand over the same row.

#include <algorithm>

#include "postgres_array.hpp"
#include "postgres_rows.hpp"
#include "postgres_storage.hpp"

namespace strata::postgres {
namespace {

using Params = std::vector<Param>;

#define OUTBOX_COLUMNS "event_id, occurred_at, user_id, ip, action, resource, status, metadata"

// The batch's rows and its events, from parameters $1-$19 (batch_params).
// The rows go in in recipient order (a recipient's own in batch order): the
// numbering trigger locks each recipient's head row, and batches that lock
// in one order never deadlock.
#define MESSAGE_FIELDS "id, sender_id, recipient_id, encrypted_content, iv, created_at, expires_at, is_read, " \
  "is_deleted, key_id, read_at"
#define INSERT_MESSAGES_IF(CONDITION)                                                                           \
  "INSERT INTO messages (" MESSAGE_FIELDS ") SELECT " MESSAGE_FIELDS " FROM unnest($1::uuid[], $2::uuid[], "    \
  "$3::uuid[], $4::bytea[], $5::bytea[], $6::timestamptz[], $7::timestamptz[], $8::boolean[], $9::boolean[], " \
  "$10::text[], $11::timestamptz[]) WITH ORDINALITY AS b(" MESSAGE_FIELDS ", n) WHERE " CONDITION               \
  " ORDER BY recipient_id, n"
// The events, as one row, with the sink they are for (set_outbox_sink),
// parameter SINK; none when there are none.
#define INSERT_EVENTS(SINK)                                                                                     \
  "INSERT INTO strata_audit_outbox_batches (sink, " OUTBOX_COLUMNS ") SELECT " SINK "::text, $12::uuid[], "     \
  "$13::timestamptz[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[] "           \
  "WHERE cardinality($12::uuid[]) > 0"

// Any batch of messages and events is one statement: one round trip and one
// commit, like a plain INSERT (BEGIN + two COPYs + COMMIT would be six).
const Statement insert_with_outbox_sql{"strata_insert_with_outbox",
                                       "WITH inserted AS (" INSERT_MESSAGES_IF("true") ") " INSERT_EVENTS("$20")};
// The same, only if every user in $20 exists and is active: their rows are
// locked FOR SHARE (a concurrent deactivation waits for this commit; one
// that committed first is what the lock reads, even after this statement's
// snapshot), and the first that does not qualify comes back, nothing inserted.
const Statement insert_sends_sql{
    "strata_insert_sends",
    "WITH wanted AS (SELECT id, username, is_active FROM users WHERE id = ANY($20::uuid[]) FOR SHARE), "
    "bad AS (SELECT w.id, u.username FROM unnest($20::uuid[]) WITH ORDINALITY AS w(id, n) LEFT JOIN wanted u "
    "ON u.id = w.id WHERE u.id IS NULL OR u.is_active IS NOT TRUE ORDER BY w.n LIMIT 1), "
    "inserted AS (" INSERT_MESSAGES_IF("NOT EXISTS (SELECT 1 FROM bad)") "), "
    "events AS (" INSERT_EVENTS("$21") " AND NOT EXISTS (SELECT 1 FROM bad)) "
    "SELECT id, username FROM bad"};

// This instance's batches (its sink's, and those from before any sink was
// set: ''), oldest first, locked, with how many events each holds.
const Statement take_batches{"strata_take_outbox",
                             "SELECT seq, cardinality(event_id)::bigint FROM strata_audit_outbox_batches"
                             " WHERE sink IN ($2, '') ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED"};
// The first $2 events of the batches $1, in order.
const Statement batch_events{
    "strata_outbox_events",
    "SELECT b.seq, e.event_id, e.occurred_at, e.user_id, e.ip, e.action, e.resource, e.status, e.metadata"
    " FROM strata_audit_outbox_batches b, unnest(b.event_id, b.occurred_at,"
    " b.user_id, b.ip, b.action, b.resource, b.status, b.metadata) WITH ORDINALITY"
    " AS e(" OUTBOX_COLUMNS ", n) WHERE b.seq = ANY($1::bigint[]) ORDER BY b.seq, e.n LIMIT $2"};
const Statement remove_batches{"strata_remove_outbox",
                               "DELETE FROM strata_audit_outbox_batches WHERE seq = ANY($1::bigint[])"};
// A batch whose first $2 events were handed over keeps the rest.
const Statement trim_batch{
    "strata_trim_outbox",
    "UPDATE strata_audit_outbox_batches SET event_id = event_id[$2::int + 1:], occurred_at = occurred_at[$2::int + 1:],"
    " user_id = user_id[$2::int + 1:], ip = ip[$2::int + 1:], action = action[$2::int + 1:],"
    " resource = resource[$2::int + 1:], status = status[$2::int + 1:], metadata = metadata[$2::int + 1:]"
    " WHERE seq = $1"};
const Statement count_events{"strata_count_outbox",
                             "SELECT coalesce(sum(cardinality(event_id)), 0) FROM strata_audit_outbox_batches"
                             " WHERE sink IN ($1, '')"};
const Statement oldest_event{"strata_oldest_outbox",
                             "SELECT min(t) FROM strata_audit_outbox_batches b, unnest(b.occurred_at) t"
                             " WHERE b.sink IN ($1, '')"};

// A batch of compare-and-set re-seals (the seed's rows adopted, key rotation)
// and the events of the rows replaced, in one statement: the events join the
// rows the UPDATE returned, so a row another process replaced first gets none.
const Statement replace_contents_sql{
    "strata_replace_contents",
    "WITH updated AS (UPDATE messages m SET encrypted_content = u.content, iv = u.iv, key_id = u.key_id"
    " FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::bytea[], $5::text[]) AS u(id, expected, content, iv, key_id)"
    " WHERE m.id = u.id AND m.key_id IS NOT DISTINCT FROM u.expected RETURNING m.id),"
    " events AS (INSERT INTO strata_audit_outbox_batches (sink, " OUTBOX_COLUMNS ")"
    " SELECT $15::text, array_agg(e.event_id ORDER BY e.n), array_agg(e.occurred_at ORDER BY e.n),"
    " array_agg(e.user_id ORDER BY e.n), array_agg(e.ip ORDER BY e.n), array_agg(e.action ORDER BY e.n),"
    " array_agg(e.resource ORDER BY e.n), array_agg(e.status ORDER BY e.n), array_agg(e.metadata ORDER BY e.n)"
    " FROM unnest($6::uuid[], $7::uuid[], $8::timestamptz[], $9::text[], $10::text[], $11::text[], $12::text[],"
    " $13::text[], $14::text[]) WITH ORDINALITY"
    " AS e(row_id, event_id, occurred_at, user_id, ip, action, resource, status, metadata, n)"
    " WHERE e.row_id IN (SELECT id FROM updated) HAVING count(*) > 0)"
    " SELECT id FROM updated"};

// A bigint[] in text form, {1,2,3}.
std::string bigint_array(const std::vector<std::int64_t>& values) {
  std::string text = "{";
  for (auto v : values) text += (text.size() > 1 ? "," : "") + std::to_string(v);
  return text + "}";
}

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

// The parameters of replace_contents_sql: the rows, then each event with its row's id.
sdk::Result<Params> replacement_params(std::span<const sdk::ContentReplacement> rows,
                                       std::span<const sdk::AuditEvent> events) {
  auto column = [](std::uint32_t type, auto&& items, auto&& value) {
    ArrayParam array(type, items.size());
    for (const auto& item : items) array.add(value(item));
    return std::move(array).param();
  };
  using R = sdk::ContentReplacement;
  for (const auto& r : rows)
    if (has_nul(r.key_id) || has_nul(r.expected_key_id))
      return sdk::fail(sdk::ErrorCode::invalid_argument, "a key id contains a NUL byte");
  auto outbox = batch_params({}, events);  // its last 8 parameters are the events' columns
  if (!outbox) return sdk::fail(outbox.error());
  std::vector<sdk::Uuid> row_ids;
  for (std::size_t i = 0; i < events.size(); ++i) row_ids.push_back(rows[i].id);
  Params params{
      column(oid::uuid, rows, [](const R& r) -> const sdk::Uuid& { return r.id; }),
      column(oid::text, rows, [](const R& r) { return std::string_view(r.expected_key_id); }),
      column(oid::bytea, rows, [](const R& r) { return sdk::BytesView(r.encrypted_content); }),
      column(oid::bytea, rows, [](const R& r) { return sdk::BytesView(r.iv); }),
      column(oid::text, rows, [](const R& r) { return std::string_view(r.key_id); }),
      column(oid::uuid, row_ids, [](const sdk::Uuid& id) -> const sdk::Uuid& { return id; }),
  };
  params.insert(params.end(), std::make_move_iterator(outbox->end() - 8), std::make_move_iterator(outbox->end()));
  return params;
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
  params->push_back(outbox_sink());
  return write<void>([&](Connection& c) -> sdk::Result<void> {
    if (auto r = c.run(insert_with_outbox_sql, *params); !r) return sdk::fail(r.error());
    return {};
  });
}

sdk::Result<void> PostgresStorage::insert_sends(std::span<const sdk::Message> messages,
                                                std::span<const sdk::AuditEvent> events) {
  for (const auto& e : events)
    if (auto ok = sdk::validate(e); !ok) return ok;
  if (messages.size() + events.size() == 0) return {};
  auto params = batch_params(messages, events);
  if (!params) return sdk::fail(params.error());
  std::vector<sdk::Uuid> users;  // each once, senders and recipients in the order they come
  for (const auto& m : messages)
    for (const auto* id : {&m.sender_id, &m.recipient_id})
      if (std::find(users.begin(), users.end(), *id) == users.end()) users.push_back(*id);
  ArrayParam user_ids(oid::uuid, users.size());
  for (const auto& id : users) user_ids.add(id);
  params->push_back(std::move(user_ids).param());
  params->push_back(outbox_sink());
  return write<void>([&](Connection& c) -> sdk::Result<void> {
    auto r = c.run(insert_sends_sql, *params);
    if (!r) return sdk::fail(r.error());
    if (PQntuples(r->get()) == 0) return {};
    Row bad(r->get(), 0);
    if (bad.null(1)) return sdk::fail(sdk::ErrorCode::invalid_argument, "no user with id " + bad.uuid(0).str());
    return sdk::fail(sdk::ErrorCode::invalid_argument, "user " + sdk::excerpt(bad.str(1), 80) + " is deactivated");
  });
}

sdk::Result<std::size_t> PostgresStorage::drain_outbox(std::size_t limit, const sdk::OutboxDelivery& deliver) {
  if (limit == 0) return std::size_t{0};
  return pool_.run<std::size_t>(Repeatable::no, [&](Connection& c) -> sdk::Result<std::size_t> {
    std::size_t delivered = 0;
    auto done = in_transaction(c, [&]() -> sdk::Result<void> {
      // Lock the oldest batches until they hold `limit` events; the last one
      // taken may be handed over in part (its front), the rest staying.
      auto batches = c.run(take_batches, {std::to_string(limit), outbox_sink()});
      if (!batches) return sdk::fail(batches.error());
      std::vector<std::int64_t> whole;
      std::optional<std::pair<std::int64_t, std::size_t>> front;  // a batch and how many of its events go
      std::size_t taking = 0;
      for (int i = 0; i < PQntuples(batches->get()) && taking < limit; ++i) {
        Row row(batches->get(), i);
        auto held = static_cast<std::size_t>(row.int8(1));
        if (taking + held <= limit) {
          whole.push_back(row.int8(0));
          taking += held;
        } else {
          front.emplace(row.int8(0), limit - taking);
          taking = limit;
        }
      }
      if (taking == 0) return {};
      auto taken = whole;
      if (front) taken.push_back(front->first);
      auto rows = c.run(batch_events, {bigint_array(taken), std::to_string(taking)});
      if (!rows) return sdk::fail(rows.error());
      std::vector<sdk::AuditEvent> events;
      events.reserve(taking);
      for (int i = 0; i < PQntuples(rows->get()); ++i) events.push_back(event_from(Row(rows->get(), i)));
      // The batches stay locked (and in the table) while the sink works: a
      // crash here leaves them for the next relay; the sink dedupes by id.
      if (auto ok = deliver(events); !ok) return ok;
      if (!whole.empty())
        if (auto r = c.run(remove_batches, {bigint_array(whole)}); !r) return sdk::fail(r.error());
      if (front)
        if (auto r = c.run(trim_batch, {std::to_string(front->first), std::to_string(front->second)}); !r)
          return sdk::fail(r.error());
      delivered = events.size();
      return {};
    });
    if (!done) return sdk::fail(done.error());
    return delivered;
  });
}

sdk::Result<std::uint64_t> PostgresStorage::outbox_size() {
  return pool_.run<std::uint64_t>(Repeatable::yes, [&](Connection& c) -> sdk::Result<std::uint64_t> {
    auto r = c.run(count_events, {outbox_sink()});
    if (!r) return sdk::fail(r.error());
    return static_cast<std::uint64_t>(Row(r->get(), 0).int8(0));
  });
}

sdk::Result<void> PostgresStorage::set_outbox_sink(std::string_view identity) {
  std::lock_guard lock(outbox_sink_mutex_);
  outbox_sink_ = identity;
  return {};
}

std::string PostgresStorage::outbox_sink() const {
  std::lock_guard lock(outbox_sink_mutex_);
  return outbox_sink_;
}

sdk::Result<std::optional<sdk::Timestamp>> PostgresStorage::outbox_oldest() {
  using Oldest = std::optional<sdk::Timestamp>;
  return pool_.run<Oldest>(Repeatable::yes, [&](Connection& c) -> sdk::Result<Oldest> {
    auto r = c.run(oldest_event, {outbox_sink()});
    if (!r) return sdk::fail(r.error());
    return Row(r->get(), 0).optional_time(0);
  });
}

}  // namespace strata::postgres

namespace strata::postgres {

sdk::Result<std::vector<bool>> PostgresStorage::replace_message_contents(std::span<const sdk::ContentReplacement> rows,
                                                                         std::span<const sdk::AuditEvent> events) {
  if (!events.empty() && events.size() != rows.size())
    return sdk::fail(sdk::ErrorCode::invalid_argument, "replace_message_contents takes no events or one per row");
  for (const auto& e : events)
    if (auto ok = sdk::validate(e); !ok) return sdk::fail(ok.error());
  if (rows.empty()) return std::vector<bool>{};
  auto params = replacement_params(rows, events);
  if (!params) return sdk::fail(params.error());
  params->push_back(outbox_sink());
  return write<std::vector<bool>>([&](Connection& c) -> sdk::Result<std::vector<bool>> {
    auto r = c.run(replace_contents_sql, *params);
    if (!r) return sdk::fail(r.error());
    std::set<sdk::Uuid> replaced;
    for (int i = 0; i < PQntuples(r->get()); ++i) replaced.insert(Row(r->get(), i).uuid(0));
    std::vector<bool> out;
    out.reserve(rows.size());
    for (const auto& row : rows) out.push_back(replaced.contains(row.id));
    return out;
  });
}

}  // namespace strata::postgres
