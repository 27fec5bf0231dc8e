// Users: registration, authentication, cached lookups.

#include "strata/services/users.hpp"

#include <utility>

#include "encoding.hpp"
#include "service_span.hpp"
#include "username_policy.hpp"
#include "json_codec.hpp"
#include "strata/services/password_hash.hpp"
#include "strata/services/sessions.hpp"

namespace strata {
namespace {

using sdk::ErrorCode;
using sdk::fail;

constexpr std::size_t max_name_bytes = 255;  // the seed's VARCHAR(255)
constexpr std::size_t max_password_bytes = 1024;

bool has_control_characters(std::string_view text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

sdk::Result<void> check_username(std::string_view name) {
  if (name.empty() || name.size() > max_name_bytes)
    return fail(ErrorCode::invalid_argument, "a username must be 1 to 255 bytes long");
  if (!detail::valid_utf8(name)) return fail(ErrorCode::invalid_argument, "a username must be valid UTF-8");
  if (has_control_characters(name))
    return fail(ErrorCode::invalid_argument, "a username must not contain control characters");
  return detail::check_username_lookalikes(name);
}

sdk::Result<void> check_email(std::string_view email) {
  if (!detail::valid_utf8(email)) return fail(ErrorCode::invalid_argument, "an email address must be valid UTF-8");
  auto at = email.find('@');
  if (email.size() > max_name_bytes || at == std::string_view::npos || at == 0 || at + 1 == email.size() ||
      has_control_characters(email) || email.find(' ') != std::string_view::npos)
    return fail(ErrorCode::invalid_argument, "'" + sdk::excerpt(email, 80) + "' is not an email address");
  return {};
}

sdk::User without_hash(sdk::User user) {
  user.password_hash.clear();
  return user;
}

AuditRecord event(std::string action, std::optional<sdk::Uuid> user, std::string resource,
                  sdk::AuditStatus status = sdk::AuditStatus::success, nlohmann::json metadata = nlohmann::json::object()) {
  return AuditRecord{user, std::move(action), std::move(resource), status, std::move(metadata)};
}

// An operation's result, unless recording its audit event failed under
// on_failure = "block": then the audit error, so the caller fails closed.
template <class T>
sdk::Result<T> with_audit(AuditLog& audit, sdk::Result<T> result, const AuditRecord& record, const Origin& origin) {
  auto recorded = audit.record(record, origin);
  if (!recorded && result) return sdk::fail(recorded.error());
  return result;
}

}  // namespace

Users::Users(ServiceContext& context, Sessions* sessions)
    : ctx_(context), sessions_(sessions), dummy_hash_(hash_password("strata: no such user", context.settings.users.scrypt)) {}

sdk::Result<void> Users::check_password_rules(std::string_view password) const {
  std::size_t min = ctx_.settings.users.min_password_length;
  if (password.size() < min)
    return fail(ErrorCode::invalid_argument, "a password needs at least " + std::to_string(min) + " characters");
  if (password.size() > max_password_bytes)
    return fail(ErrorCode::invalid_argument, "a password may have at most 1024 bytes");
  return {};
}

sdk::Result<sdk::User> Users::register_user(std::string_view username, std::string_view email,
                                            std::string_view password, const Origin& origin) {
  return traced(ctx_, "users.register", origin, [&]() -> sdk::Result<sdk::User> {
    std::string_view rule = "username";
    auto checked = check_username(username);
    if (checked) {
      rule = "email";
      checked = check_email(email);
    }
    if (checked) {
      rule = "password";
      checked = check_password_rules(password);
    }
    nlohmann::json meta{{"username", username}, {"email", email}};
    if (!checked) {
      // The refusal's message quotes what was typed; where events keep no
      // personal data in clear, the trail names only the rule it broke.
      meta["reason"] = ctx_.audit->protects_personal_fields() ? "invalid " + std::string(rule)
                                                             : checked.error().message;
      (void)ctx_.audit->record(event("user.register", std::nullopt, "user", sdk::AuditStatus::failure, meta), origin);
      return sdk::fail(checked.error());
    }
    sdk::User user;
    user.id = sdk::Uuid::generate();
    user.username = std::string(username);
    user.email = std::string(email);
    user.password_hash = hash_password(password, ctx_.settings.users.scrypt);
    user.created_at = user.updated_at = ctx_.clock->now();
    user.is_active = true;
    auto created = ctx_.storage->create_user(user);
    if (!created) {
      meta["reason"] = std::string(sdk::to_string(created.error().code));
      (void)ctx_.audit->record(event("user.register", std::nullopt, "user", sdk::AuditStatus::failure, meta), origin);
      return sdk::fail(created.error());
    }
    invalidate(user);  // a cached miss is not possible, but a stale entry of a deleted namesake is
    return with_audit(*ctx_.audit, sdk::Result<sdk::User>(without_hash(user)),
                      event("user.register", user.id, resource("user", user.id), sdk::AuditStatus::success, meta), origin);
  });
}

sdk::Result<sdk::User> Users::authenticate(std::string_view username, std::string_view password,
                                           const Origin& origin) {
  return traced(ctx_, "users.authenticate", origin, [&]() -> sdk::Result<sdk::User> {
    auto refuse = [&](std::optional<sdk::Uuid> id, std::string reason) -> sdk::Result<sdk::User> {
      auto r = ctx_.audit->record(event("user.login", id, id ? resource("user", *id) : std::string("user"),
                                        sdk::AuditStatus::failure, {{"username", username}, {"reason", reason}}),
                                  origin);
      if (!r) return sdk::fail(r.error());
      return fail(ErrorCode::auth_failed, "wrong username or password");
    };
    auto found = ctx_.storage->find_user_by_username(username);
    if (!found) {
      if (found.error().code != ErrorCode::not_found) return sdk::fail(found.error());
      (void)verify_password(password, dummy_hash_, ctx_.settings.users.scrypt);  // same work as for a real user
      return refuse(std::nullopt, "unknown_user");
    }
    auto matches = verify_password(password, found->password_hash, ctx_.settings.users.scrypt,
                                   ctx_.settings.users.bcrypt_max_cost);
    if (!matches) {
      ctx_.log(sdk::LogLevel::warning, "user " + found->id.str() + " cannot log in: " + matches.error().message);
      return refuse(found->id, "unreadable_hash");
    }
    if (!*matches) return refuse(found->id, "wrong_password");
    if (!found->is_active) return refuse(found->id, "inactive");

    sdk::Timestamp now = ctx_.clock->now();
    if (auto r = record_login(*found, password, now, origin); !r) return sdk::fail(r.error());
    invalidate(*found);
    return with_audit(*ctx_.audit, sdk::Result<sdk::User>(without_hash(*found)),
                      event("user.login", found->id, resource("user", found->id)), origin);
  });
}

sdk::Result<void> Users::record_login(sdk::User& user, std::string_view password, sdk::Timestamp now,
                                      const Origin& origin) {
  user.last_login = now;
  if (!needs_rehash(user.password_hash, ctx_.settings.users.scrypt))
    return ctx_.storage->record_login(user.id, now);
  // A hash of the seed's (bcrypt, argon2) or of another scrypt cost: replaced
  // now that the password is at hand, in the transaction that sets
  // last_login, and only if no password change came first (compare-and-set).
  std::string from(hash_scheme(user.password_hash));
  std::string replacement = hash_password(password, ctx_.settings.users.scrypt);
  auto swapped = ctx_.storage->record_login_rehashed(user.id, now, user.password_hash, replacement);
  if (!swapped && swapped.error().code == ErrorCode::unsupported) {
    // A storage plugin older than SDK 1.7: two writes, as before.
    if (auto r = ctx_.storage->record_login(user.id, now); !r) return r;
    user.updated_at = now;
    std::string old_hash = std::exchange(user.password_hash, replacement);
    auto updated = ctx_.storage->update_user(user);
    user.password_hash = old_hash;
    swapped = updated ? sdk::Result<bool>(true) : sdk::fail(updated.error());
  }
  if (!swapped) {
    ctx_.log(sdk::LogLevel::warning, "could not upgrade the password hash of user " + user.id.str() + ": " +
                                         swapped.error().describe());
    return {};  // the login stands; the next one tries again
  }
  if (!*swapped) return {};  // the password changed meanwhile: that hash is newer
  user.password_hash = replacement;
  user.updated_at = now;
  return ctx_.audit->record(event("user.password_upgrade", user.id, resource("user", user.id),
                                  sdk::AuditStatus::success,
                                  {{"from", from}, {"to", "scrypt"}}),
                            origin);
}

sdk::Result<sdk::User> Users::lookup(std::string key, const std::function<sdk::Result<sdk::User>()>& load) {
  if (ctx_.cache) {
    auto cached = ctx_.cache->get(key);
    if (cached && *cached) {
      auto json = nlohmann::json::parse((*cached)->begin(), (*cached)->end(), nullptr, false);
      if (auto user = json.is_discarded() ? std::nullopt : detail::user_from_json(json)) return *user;
    } else if (!cached) {
      // The cache is only a cache: note it and go to storage.
      ctx_.log(sdk::LogLevel::warning, "user cache read failed: " + cached.error().describe());
    }
  }
  auto loaded = load();
  if (!loaded) return loaded;
  sdk::User user = without_hash(std::move(*loaded));
  if (ctx_.cache) {
    std::string text = detail::user_to_json(user).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    auto ttl = std::chrono::duration_cast<sdk::Ttl>(ctx_.settings.users.cache_ttl);
    if (auto r = ctx_.cache->set(key, sdk::as_bytes(text), ttl); !r)
      ctx_.log(sdk::LogLevel::warning, "user cache write failed: " + r.error().describe());
  }
  return user;
}

sdk::Result<sdk::User> Users::get(const sdk::Uuid& id) {
  return traced(ctx_, "users.get", {}, [&]() -> sdk::Result<sdk::User> {
    return lookup("user:id:" + id.str(), [&] { return ctx_.storage->get_user(id); });
  });
}
sdk::Result<sdk::User> Users::by_username(std::string_view username) {
  return traced(ctx_, "users.by_username", {}, [&]() -> sdk::Result<sdk::User> {
    return lookup("user:name:" + std::string(username), [&] { return ctx_.storage->find_user_by_username(username); });
  });
}
sdk::Result<sdk::User> Users::by_email(std::string_view email) {
  return traced(ctx_, "users.by_email", {}, [&]() -> sdk::Result<sdk::User> {
    return lookup("user:email:" + std::string(email), [&] { return ctx_.storage->find_user_by_email(email); });
  });
}

void Users::invalidate(const sdk::User& user) {
  if (!ctx_.cache) return;
  for (const std::string& key : {"user:id:" + user.id.str(), "user:name:" + user.username, "user:email:" + user.email})
    if (auto r = ctx_.cache->remove(key); !r)
      ctx_.log(sdk::LogLevel::warning, "user cache invalidation failed (entries expire after [users] cache_ttl_s): " +
                                           r.error().describe());
}

sdk::Result<void> Users::update(sdk::User user) {
  return traced(ctx_, "users.update", {}, [&]() -> sdk::Result<void> {
    user.updated_at = ctx_.clock->now();
    auto r = ctx_.storage->update_user(user);
    invalidate(user);
    return r;
  });
}

sdk::Result<void> Users::change_password(const sdk::Uuid& id, std::string_view current, std::string_view replacement,
                                         const Origin& origin) {
  return traced(ctx_, "users.change_password", origin, [&]() -> sdk::Result<void> {
    auto user = ctx_.storage->get_user(id);
    if (!user) return sdk::fail(user.error());
    auto matches = verify_password(current, user->password_hash, ctx_.settings.users.scrypt,
                                   ctx_.settings.users.bcrypt_max_cost);
    if (!matches || !*matches) {
      auto r = ctx_.audit->record(event("user.password_change", id, resource("user", id), sdk::AuditStatus::failure,
                                        {{"reason", "wrong_password"}}),
                                  origin);
      if (!r) return r;
      return fail(ErrorCode::auth_failed, "the current password is wrong");
    }
    if (auto r = check_password_rules(replacement); !r) return r;
    user->password_hash = hash_password(replacement, ctx_.settings.users.scrypt);
    return with_audit(*ctx_.audit, update(*user), event("user.password_change", id, resource("user", id)), origin);
  });
}

sdk::Result<void> Users::deactivate(const sdk::Uuid& id, const Origin& origin) {
  return traced(ctx_, "users.deactivate", origin, [&]() -> sdk::Result<void> {
    auto user = ctx_.storage->get_user(id);
    if (!user) return sdk::fail(user.error());
    user->is_active = false;
    auto r = update(*user);
    // Without a session cache there are no sessions to end (deactivating
    // once failed there, asking for one).
    if (r && sessions_ && ctx_.sessions) r = sessions_->revoke_all(id, origin);
    return with_audit(*ctx_.audit, std::move(r), event("user.deactivate", id, resource("user", id)), origin);
  });
}

}  // namespace strata
