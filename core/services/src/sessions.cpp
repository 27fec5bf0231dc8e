// Sessions in the session cache; revocations recorded in the storage too
// (SDK 1.9), so that a cache that comes back older than the truth (a Redis
// restarted from a snapshot, a restored backup) cannot revive a session.

#include "strata/services/sessions.hpp"

#include <cryptopp/osrng.h>

#include "encoding.hpp"
#include "service_span.hpp"

namespace strata {
namespace {

using sdk::ErrorCode;
using sdk::fail;

constexpr std::size_t token_bytes = 32;  // 256 bits

std::string token_key(std::string_view token) { return "token:" + detail::sha256_hex(sdk::as_bytes(token)); }

std::string revoked_key(const sdk::Uuid& user) { return "revoked-before:" + user.str(); }

// The subjects of the storage's revocation records (SDK 1.9) a session falls under.
constexpr std::string_view everyone = "all";
std::string user_subject(const sdk::Uuid& user) { return "user:" + user.str(); }
std::string token_subject(std::string_view token) { return "token:" + detail::sha256_hex(sdk::as_bytes(token)); }

sdk::Unexpected not_valid() { return fail(ErrorCode::auth_failed, "the session is unknown, expired or revoked"); }

// The expiry to report for a TTL the cache set (or read) between `before`
// and now. A cache on the host's clock (the memory plugin) counts the TTL
// from its own reading inside that call; if the clock stepped forward during
// the call, `before + ttl` would come before the real expiry, and a caller
// would see a session valid past the expiry it was told. The later of the
// two readings is never earlier than the cache's (chaos rounds with clock
// jumps found the difference).
template <class Duration>
sdk::Timestamp latest_expiry(const sdk::Clock& clock, sdk::Timestamp before, Duration ttl) {
  return std::max(before, clock.now()) + ttl;
}

}  // namespace

sdk::Result<bool> Sessions::revoke_durably(std::string_view subject, bool whatever_its_time) {
  // A record outlives every session it covers, whatever ttl_s this process
  // has: a session made by another process (or before ttl_s was lowered)
  // with a longer lifetime must not come back when the record goes.
  auto now = ctx_.clock->now();
  // One token's revoke covers that token whenever it was made: compared by
  // time, a session made before the clock was stepped back (NTP, a VM
  // snapshot) would look newer than its own revoke and outlive it.
  // (The last microsecond of year 9999: every backend stores it as a time.)
  constexpr std::int64_t end_of_9999 = 253'402'300'799'999'999;
  auto before = whatever_its_time ? sdk::Timestamp::from_micros(end_of_9999) : now;
  auto recorded = ctx_.storage->revoke_sessions(subject, before, now + SessionSettings::max_ttl);
  if (!recorded && recorded.error().code == ErrorCode::unsupported) return false;
  if (!recorded) return fail(recorded.error().code, "the revocation could not be recorded: " + recorded.error().describe());
  return true;
}

sdk::Result<bool> Sessions::revoked(const Session& s, std::string_view token, sdk::Cache& cache) {
  std::vector<std::string> subjects{std::string(everyone), user_subject(s.user_id), token_subject(token)};
  auto durable = ctx_.storage->sessions_revoked_before(subjects);
  if (durable) return *durable && s.created_at <= **durable;
  if (durable.error().code != ErrorCode::unsupported) return sdk::fail(durable.error());
  // A storage older than SDK 1.9 keeps no revocations: the cache's mark is
  // all there is (and it is lost with the cache).
  auto mark = cache.get(revoked_key(s.user_id));
  if (!mark) return sdk::fail(mark.error());
  if (!*mark) return false;
  std::string text((*mark)->begin(), (*mark)->end());
  return s.created_at.micros() <= std::stoll(text);
}

Sessions::Sessions(ServiceContext& context) : ctx_(context) {}

sdk::Result<sdk::Cache*> Sessions::cache() const {
  if (!ctx_.sessions)
    return fail(ErrorCode::unsupported, "sessions need a [cache.session] (or [cache.default]) in the config");
  return ctx_.sessions.get();
}

sdk::Result<Session> Sessions::create(const sdk::Uuid& user_id, const Origin& origin) {
  return traced(ctx_, "sessions.create", origin, [&]() -> sdk::Result<Session> {
    auto cache = this->cache();
    if (!cache) return sdk::fail(cache.error());
    // Only for a user who exists and is active, asked of the storage (a cached
    // lookup could be a deactivation behind).
    auto user = ctx_.storage->get_user(user_id);
    if (!user && user.error().code != ErrorCode::not_found) return sdk::fail(user.error());
    if (!user || !user->is_active) {
      std::string reason = user ? "inactive" : "unknown_user";
      auto r = ctx_.audit->record(AuditRecord{user_id, "session.create", resource("user", user_id),
                                              sdk::AuditStatus::failure, {{"reason", reason}}},
                                  origin);
      if (!r) return sdk::fail(r.error());
      return fail(ErrorCode::invalid_argument, user ? "user " + user_id.str() + " is deactivated: no session for them"
                                                    : "no user with id " + user_id.str());
    }
    sdk::Bytes random(token_bytes);
    CryptoPP::AutoSeededRandomPool rng;
    rng.GenerateBlock(random.data(), random.size());
    auto before = ctx_.clock->now();
    Session s{detail::base64url(random), user_id, before, {}, origin.ip};
    nlohmann::json value{{"user_id", user_id.str()}, {"created_at", s.created_at.micros()}, {"ip", s.ip}};
    std::string text = value.dump();
    auto ttl = std::chrono::duration_cast<sdk::Ttl>(ctx_.settings.sessions.ttl);
    if (auto r = (*cache)->set(token_key(s.token), sdk::as_bytes(text), ttl); !r) return sdk::fail(r.error());
    s.expires_at = latest_expiry(*ctx_.clock, before, ctx_.settings.sessions.ttl);
    auto recorded = ctx_.audit->record(AuditRecord{user_id, "session.create", resource("user", user_id)}, origin);
    if (!recorded) {
      (void)(*cache)->remove(token_key(s.token));  // fail closed: no unaudited session
      return sdk::fail(recorded.error());
    }
    return s;
  });
}

sdk::Result<Session> Sessions::get(std::string_view token) {
  return traced(ctx_, "sessions.get", {}, [&]() -> sdk::Result<Session> {
    auto cache = this->cache();
    if (!cache) return sdk::fail(cache.error());
    std::string key = token_key(token);
    auto stored = (*cache)->get(key);
    if (!stored) return sdk::fail(stored.error());
    if (!*stored) return not_valid();
    auto json = nlohmann::json::parse((*stored)->begin(), (*stored)->end(), nullptr, false);
    Session s;
    try {
      auto id = sdk::Uuid::parse(json.at("user_id").get<std::string>());
      if (!id) return not_valid();
      s = Session{std::string(token), *id, sdk::Timestamp::from_micros(json.at("created_at").get<std::int64_t>()), {},
                  json.at("ip").get<std::string>()};
    } catch (const nlohmann::json::exception&) {
      return not_valid();
    }
    // Revoked after it was created (this token, its user, or everyone)?
    auto is_revoked = revoked(s, token, **cache);
    if (!is_revoked) return sdk::fail(is_revoked.error());
    if (*is_revoked) {
      (void)(*cache)->remove(key);
      return not_valid();
    }
    auto before = ctx_.clock->now();
    auto remaining = (*cache)->ttl(key);
    if (!remaining) return sdk::fail(remaining.error());
    if (!remaining->exists) return not_valid();
    s.expires_at = latest_expiry(*ctx_.clock, before, remaining->remaining.value_or(sdk::Ttl(0)));
    return s;
  });
}

sdk::Result<Session> Sessions::touch(std::string_view token) {
  return traced(ctx_, "sessions.touch", {}, [&]() -> sdk::Result<Session> {
    auto s = get(token);
    if (!s) return s;
    auto ttl = std::chrono::duration_cast<sdk::Ttl>(ctx_.settings.sessions.ttl);
    auto before = ctx_.clock->now();
    auto extended = ctx_.sessions->expire(token_key(token), ttl);
    if (!extended) return sdk::fail(extended.error());
    if (!*extended) return not_valid();  // expired between the two calls
    s->expires_at = latest_expiry(*ctx_.clock, before, ctx_.settings.sessions.ttl);
    return s;
  });
}

sdk::Result<void> Sessions::revoke(std::string_view token, const Origin& origin) {
  return traced(ctx_, "sessions.revoke", origin, [&]() -> sdk::Result<void> {
    auto s = get(token);
    auto cache = this->cache();
    if (!cache) return sdk::fail(cache.error());
    if (!s) {
      if (auto r = (*cache)->remove(token_key(token)); !r) return sdk::fail(r.error());
      return {};  // already gone: nothing to audit
    }
    // Recorded in the storage first: a session cache restarted from a snapshot
    // taken before this call brings the token back, and the record refuses it.
    if (auto r = revoke_durably(token_subject(token), true); !r) return sdk::fail(r.error());
    if (auto r = (*cache)->remove(token_key(token)); !r) return sdk::fail(r.error());
    return ctx_.audit->record(AuditRecord{s->user_id, "session.revoke", resource("user", s->user_id)}, origin);
  });
}

sdk::Result<void> Sessions::revoke_all(const sdk::Uuid& user_id, const Origin& origin) {
  return traced(ctx_, "sessions.revoke_all", origin, [&]() -> sdk::Result<void> {
    auto cache = this->cache();
    if (!cache) return sdk::fail(cache.error());
    // Sessions created up to now are refused.
    auto durable = revoke_durably(user_subject(user_id));
    if (!durable) return sdk::fail(durable.error());
    if (!*durable) {
      // A storage older than SDK 1.9: a mark in the cache, living as long as
      // the longest session lifetime [sessions] accepts (see revoke_durably).
      std::string now = std::to_string(ctx_.clock->now().micros());
      auto ttl = std::chrono::duration_cast<sdk::Ttl>(SessionSettings::max_ttl);
      if (auto r = (*cache)->set(revoked_key(user_id), sdk::as_bytes(now), ttl); !r) return sdk::fail(r.error());
    }
    return ctx_.audit->record(
        AuditRecord{user_id, "session.revoke_all", resource("user", user_id)}, origin);
  });
}

sdk::Result<void> Sessions::revoke_everyone(const Origin& origin) {
  return traced(ctx_, "sessions.revoke_everyone", origin, [&]() -> sdk::Result<void> {
    auto cache = this->cache();
    if (!cache) return sdk::fail(cache.error());
    auto durable = revoke_durably(everyone);
    if (!durable) return sdk::fail(durable.error());
    // Without a durable record, emptying the session cache is the only way.
    if (!*durable)
      if (auto r = (*cache)->clear(); !r) return sdk::fail(r.error());
    return ctx_.audit->record(AuditRecord{std::nullopt, "session.revoke_everyone", "sessions"}, origin);
  });
}

}  // namespace strata
