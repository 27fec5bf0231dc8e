// Durable session revocations (SDK 1.9) on SQLite: one row per subject in
// strata_session_revocations (schema/sqlite/003_session_revocations).

#include <algorithm>

#include "sqlite_storage.hpp"

namespace strata::sqlite {
namespace {

// Records past their keep_until go with the next revocation: the table stays
// as small as the revocations still in force.
constexpr const char* drop_expired_sql = "DELETE FROM strata_session_revocations WHERE keep_until < ?1";
constexpr const char* upsert_sql =
    "INSERT INTO strata_session_revocations (subject, revoked_before, keep_until) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (subject) DO UPDATE SET revoked_before = max(revoked_before, excluded.revoked_before), "
    "keep_until = max(keep_until, excluded.keep_until)";
constexpr const char* revoked_before_sql = "SELECT revoked_before FROM strata_session_revocations WHERE subject = ?1";

}  // namespace

sdk::Result<void> SqliteStorage::revoke_sessions(std::string_view subject, sdk::Timestamp before,
                                                 sdk::Timestamp keep_until) {
  std::lock_guard lock(mutex_);
  return db_->in_transaction([&]() -> sdk::Result<void> {
    if (auto r = db_->run(drop_expired_sql, {before}); !r) return sdk::fail(r.error());
    if (auto r = db_->run(upsert_sql, {std::string(subject), before, keep_until}); !r) return sdk::fail(r.error());
    return {};
  });
}

sdk::Result<std::optional<sdk::Timestamp>> SqliteStorage::sessions_revoked_before(
    std::span<const std::string> subjects) {
  std::lock_guard lock(mutex_);
  std::optional<sdk::Timestamp> latest;
  for (const auto& subject : subjects) {
    auto r = db_->run(revoked_before_sql, {subject}, [&](const Row& row) {
      latest = std::max(latest.value_or(row.time(0)), row.time(0));
    });
    if (!r) return sdk::fail(r.error());
  }
  return latest;
}

}  // namespace strata::sqlite
