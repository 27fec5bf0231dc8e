// The per-recipient sequence (SDK 1.10) on PostgreSQL: the trigger of
// schema/postgres/008_inbox_sequence numbers each message in the transaction
// that stores it; these read the numbers, always on the primary (a replica
// behind it would show a head older than a cursor it handed out).

#include "postgres_array.hpp"
#include "postgres_rows.hpp"
#include "postgres_storage.hpp"

namespace strata::postgres {
namespace {

// The epoch, made if a restore left the table empty (the plugin's backups
// leave its row out, so a restored database starts a new run of numbers).
#define EPOCH_CTES                                                                                           \
  "WITH made AS (INSERT INTO strata_inbox_epoch (epoch) SELECT gen_random_uuid()"                            \
  " WHERE NOT EXISTS (SELECT 1 FROM strata_inbox_epoch) ON CONFLICT DO NOTHING RETURNING epoch),"            \
  " e AS (SELECT epoch FROM made UNION ALL SELECT epoch FROM strata_inbox_epoch LIMIT 1)"

// One statement, so the head and the rows come from one snapshot: the
// messages after $2 (columns 0-11), the epoch (12) and the head (13); one
// row of NULL message columns when there are none.
const Statement since_sql{
    "strata_inbox_since",
    EPOCH_CTES ", m AS (SELECT " MESSAGE_READ_COLUMNS ", recipient_seq FROM messages"
    " WHERE recipient_id = $1 AND recipient_seq > $2 ORDER BY recipient_seq LIMIT $3)"
    " SELECT m.*, e.epoch::text, coalesce((SELECT head FROM strata_inbox_heads WHERE recipient_id = $1), 0)"
    " FROM e LEFT JOIN m ON true ORDER BY m.recipient_seq"};
// The epoch (0), then per recipient asked its position (1) and head (2).
const Statement heads_sql{
    "strata_inbox_heads",
    EPOCH_CTES " SELECT e.epoch::text, r.n, coalesce(h.head, 0) FROM e LEFT JOIN"
    " (unnest($1::uuid[]) WITH ORDINALITY AS r(id, n) LEFT JOIN strata_inbox_heads h ON h.recipient_id = r.id)"
    " ON true ORDER BY r.n"};

// Two first readers after a restore: the one whose insert lost sees no epoch
// in its snapshot. Asked again, it sees the winner's.
constexpr int epoch_attempts = 2;

}  // namespace

sdk::Result<sdk::InboxStream> PostgresStorage::inbox_since(const sdk::Uuid& recipient, std::uint64_t after,
                                                           std::size_t limit) {
  if (limit == 0 || limit > sdk::max_page_limit)
    return sdk::fail(sdk::ErrorCode::invalid_argument,
                     "limit must be between 1 and " + std::to_string(sdk::max_page_limit));
  std::vector<Param> params{recipient.str(), std::to_string(after), std::to_string(limit)};
  for (int attempt = 1;; ++attempt) {
    auto read = pool_.run<sdk::InboxStream>(Repeatable::yes, [&](Connection& c) -> sdk::Result<sdk::InboxStream> {
      auto r = c.run(since_sql, params);
      if (!r) return sdk::fail(r.error());
      sdk::InboxStream out;
      for (int i = 0; i < PQntuples(r->get()); ++i) {
        Row row(r->get(), i);
        out.epoch = row.str(12);
        out.head = static_cast<std::uint64_t>(row.int8(13));
        if (!row.null(0)) out.items.push_back({static_cast<std::uint64_t>(row.int8(11)), message_from(row)});
      }
      return out;
    });
    if (!read || !read->epoch.empty() || attempt == epoch_attempts) return read;
  }
}

sdk::Result<sdk::InboxHeads> PostgresStorage::inbox_heads(std::span<const sdk::Uuid> recipients) {
  ArrayParam ids(oid::uuid, recipients.size());
  for (const auto& id : recipients) ids.add(id);
  std::vector<Param> params{std::move(ids).param()};
  for (int attempt = 1;; ++attempt) {
    auto read = pool_.run<sdk::InboxHeads>(Repeatable::yes, [&](Connection& c) -> sdk::Result<sdk::InboxHeads> {
      auto r = c.run(heads_sql, params);
      if (!r) return sdk::fail(r.error());
      sdk::InboxHeads out;
      out.heads.resize(recipients.size());
      for (int i = 0; i < PQntuples(r->get()); ++i) {
        Row row(r->get(), i);
        out.epoch = row.str(0);
        if (!row.null(1)) out.heads.at(static_cast<std::size_t>(row.int8(1) - 1)) = static_cast<std::uint64_t>(row.int8(2));
      }
      return out;
    });
    if (!read || !read->epoch.empty() || attempt == epoch_attempts) return read;
  }
}

}  // namespace strata::postgres
