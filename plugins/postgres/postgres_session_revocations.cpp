// Durable session revocations (SDK 1.9) on PostgreSQL: one row per subject
// in strata_session_revocations (schema/postgres/005_session_revocations).

#include "postgres_array.hpp"
#include "postgres_rows.hpp"
#include "postgres_storage.hpp"

namespace strata::postgres {
namespace {

// One statement: records past their keep_until go with the next revocation
// (the table stays as small as the revocations in force), and a subject
// revoked again keeps the later times, whichever revocation commits first.
const Statement revoke_sessions_sql{
    "strata_revoke_sessions",
    "WITH expired AS (DELETE FROM strata_session_revocations WHERE keep_until < $2 AND subject <> $1) "
    "INSERT INTO strata_session_revocations (subject, revoked_before, keep_until) VALUES ($1, $2, $3) "
    "ON CONFLICT (subject) DO UPDATE SET "
    "revoked_before = GREATEST(strata_session_revocations.revoked_before, excluded.revoked_before), "
    "keep_until = GREATEST(strata_session_revocations.keep_until, excluded.keep_until)"};
const Statement revoked_before_sql{
    "strata_sessions_revoked_before",
    "SELECT max(revoked_before) FROM strata_session_revocations WHERE subject = ANY($1::text[])"};

}  // namespace

sdk::Result<void> PostgresStorage::revoke_sessions(std::string_view subject, sdk::Timestamp before,
                                                   sdk::Timestamp keep_until) {
  return write<void>(
      [&](Connection& c) -> sdk::Result<void> {
        auto r = c.run(revoke_sessions_sql, {std::string(subject), text(before), text(keep_until)});
        if (!r) return sdk::fail(r.error());
        return {};
      },
      Repeatable::yes);  // repeated after a cut connection, it records the same thing
}

sdk::Result<std::optional<sdk::Timestamp>> PostgresStorage::sessions_revoked_before(
    std::span<const std::string> subjects) {
  using Latest = std::optional<sdk::Timestamp>;
  if (subjects.empty()) return Latest{};
  ArrayParam names(oid::text, subjects.size());
  for (const auto& subject : subjects) names.add(std::string_view(subject));
  std::vector<Param> params{std::move(names).param()};
  // From the primary, never a replica: a revocation counts from its commit.
  return pool_.run<Latest>(Repeatable::yes, [&](Connection& c) -> sdk::Result<Latest> {
    auto r = c.run(revoked_before_sql, params);
    if (!r) return sdk::fail(r.error());
    return Row(r->get(), 0).optional_time(0);
  });
}

}  // namespace strata::postgres
