#pragma once
// Users: registration with an scrypt password hash, authentication, cached
// lookups, password change and deactivation. Every change is audited, and
// invalidates the cached lookups (by id, username and email).
//
// Users returned by this service never carry the password hash: it stays in
// storage, and never reaches the cache, a log line or an audit event.

#include "strata/export.hpp"
#include <string_view>

#include "strata/services/context.hpp"

namespace strata {

class Sessions;

class STRATA_API Users {
 public:
  explicit Users(ServiceContext& context, Sessions* sessions = nullptr);

  /// Registers a user. `invalid_argument` for an empty or overlong username,
  /// a malformed email or a short password; `already_exists` when the
  /// username or email is taken.
  sdk::Result<sdk::User> register_user(std::string_view username, std::string_view email,
                                       std::string_view password, const Origin& origin);
  /// Checks a password; records last_login. `auth_failed` (one message for
  /// every cause, so callers cannot probe for usernames) for an unknown user,
  /// a wrong password or a deactivated user; the audit event says which.
  sdk::Result<sdk::User> authenticate(std::string_view username, std::string_view password, const Origin& origin);
  /// A user by id, username or email (cached).
  sdk::Result<sdk::User> get(const sdk::Uuid& id);
  sdk::Result<sdk::User> by_username(std::string_view username);
  sdk::Result<sdk::User> by_email(std::string_view email);
  /// Replaces the password after checking the current one.
  sdk::Result<void> change_password(const sdk::Uuid& id, std::string_view current, std::string_view replacement,
                                    const Origin& origin);
  /// Deactivates a user and revokes their sessions.
  sdk::Result<void> deactivate(const sdk::Uuid& id, const Origin& origin);

 private:
  sdk::Result<sdk::User> lookup(std::string key, const std::function<sdk::Result<sdk::User>()>& load);
  void invalidate(const sdk::User& user);
  sdk::Result<void> check_password_rules(std::string_view password) const;
  sdk::Result<void> update(sdk::User user);
  // Sets last_login; a hash not in the configured scrypt (the seed's bcrypt or
  // argon2 included) is replaced in the same transaction, and audited.
  sdk::Result<void> record_login(sdk::User& user, std::string_view password, sdk::Timestamp now, const Origin& origin);

  ServiceContext& ctx_;
  Sessions* sessions_;
  std::string dummy_hash_;  // verified against for unknown users, so timing does not tell them apart
};

}  // namespace strata
