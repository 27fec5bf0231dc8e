#pragma once
// Sessions: 256-bit random tokens (base64url) in the `session` cache with a
// sliding TTL. The cache holds the token's SHA-256, never the token, so a
// dump of the cache cannot be replayed. A revocation (one session, all of a
// user's, everyone's) is a "revoked before" record in the storage (SDK 1.9),
// which outlives every session it covers and is asked on every lookup: a
// session cache that comes back older than the truth (restarted from a
// snapshot, restored from a backup) cannot revive a revoked session. With a
// storage older than SDK 1.9, revocations live in the cache alone.

#include "strata/export.hpp"
#include <string>
#include <string_view>

#include "strata/services/context.hpp"

namespace strata {

/// A live session.
struct Session {
  std::string token;         ///< what the client presents (only returned by create)
  sdk::Uuid user_id;
  sdk::Timestamp created_at;
  sdk::Timestamp expires_at;  ///< as of the last touch
  std::string ip;            ///< where it was created
};

class STRATA_API Sessions {
 public:
  explicit Sessions(ServiceContext& context);

  /// A new session for `user_id`.
  sdk::Result<Session> create(const sdk::Uuid& user_id, const Origin& origin);
  /// The session behind `token`; `auth_failed` when unknown, expired or revoked.
  sdk::Result<Session> get(std::string_view token);
  /// get(), then restarts the TTL.
  sdk::Result<Session> touch(std::string_view token);
  /// Ends one session (idempotent).
  sdk::Result<void> revoke(std::string_view token, const Origin& origin);
  /// Ends every session of a user, including those on other hosts sharing the cache.
  sdk::Result<void> revoke_all(const sdk::Uuid& user_id, const Origin& origin);
  /// Ends every session of every user (a restore does, after replacing the data).
  sdk::Result<void> revoke_everyone(const Origin& origin);

 private:
  sdk::Result<sdk::Cache*> cache() const;
  // Records in the storage that `subject`'s sessions made until now (or,
  // `whatever_its_time`, ever) are revoked; false when the storage keeps no
  // revocations (older than SDK 1.9).
  sdk::Result<bool> revoke_durably(std::string_view subject, bool whatever_its_time = false);
  // Whether a revocation covers `s` (`token` is its token).
  sdk::Result<bool> revoked(const Session& s, std::string_view token, sdk::Cache& cache);
  ServiceContext& ctx_;
};

}  // namespace strata
