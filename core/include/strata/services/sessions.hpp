#pragma once
// Sessions: 256-bit random tokens (base64url) in the `session` cache with a
// sliding TTL. The cache holds the token's SHA-256, never the token, so a
// dump of the cache cannot be replayed. Revoking all of a user's sessions
// writes one "revoked before" mark, which outlives every session it covers.

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

 private:
  sdk::Result<sdk::Cache*> cache() const;
  ServiceContext& ctx_;
};

}  // namespace strata
