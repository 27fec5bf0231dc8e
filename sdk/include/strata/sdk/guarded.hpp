#pragma once
// Guards that stand between the host and a plugin's implementation. They are
// instantiated inside the plugin (by provide<Impl>()), so an exception thrown
// by the implementation is caught before it can leave the library.
//
// GuardedX<Impl> derives from Impl and calls Impl::method directly (a
// non-virtual call), so the guard costs one direct call, not a second dispatch.

#include <exception>
#include <new>
#include <string>
#include <utility>

#include "strata/sdk/audit.hpp"
#include "strata/sdk/cache.hpp"
#include "strata/sdk/cipher.hpp"
#include "strata/sdk/error.hpp"
#include "strata/sdk/storage.hpp"

namespace strata::sdk {

struct PluginContext;

namespace detail {

/// Stamps the plugin's name on an error that has none.
inline void stamp(Error& error, const std::string& plugin) {
  if (error.plugin.empty()) error.plugin = plugin;
}

/// The error for the exception being handled (call only inside a catch block).
/// Out of line and cold: the hot path of a guarded call stays small.
[[gnu::noinline, gnu::cold]] inline Error current_exception_error(const std::string& plugin) noexcept {
  Error error;
  try {
    throw;
  } catch (const Error& e) {
    error = e;
  } catch (const std::bad_alloc&) {
    error = Error{ErrorCode::internal, "out of memory", {}, true};
  } catch (const std::exception& e) {
    error = Error{ErrorCode::internal, std::string("unexpected exception: ") + e.what(), {}, false};
  } catch (...) {
    error = Error{ErrorCode::internal, "unexpected non-standard exception", {}, false};
  }
  stamp(error, plugin);
  return error;
}

/// Runs `f`, returning its Result; any exception becomes an error value, and
/// errors are stamped with the plugin's name. Always inlined into the guarded
/// method, so a successful call costs one direct call more than a plain one.
template <class F>
[[gnu::always_inline]] inline auto guard(const std::string& plugin, F&& f) noexcept -> decltype(f()) {
  try {
    auto r = f();
    if (!r) [[unlikely]]
      stamp(r.error(), plugin);
    return r;
  } catch (...) {
    return std::unexpected(current_exception_error(plugin));
  }
}

}  // namespace detail

// One line per method: the guarded override calls Impl's version.
#define STRATA_GUARD_(RET, NAME, PARAMS, ARGS) \
  RET NAME PARAMS override { return detail::guard(plugin_, [&] { return Impl::NAME ARGS; }); }

/// Storage implementation behind a guard.
template <class Impl>
class GuardedStorage final : public Impl {
 public:
  template <class Context>
  explicit GuardedStorage(const Context& context) : Impl(context), plugin_(context.plugin) {}
  STRATA_GUARD_(Result<void>, health, (), ())
  STRATA_GUARD_(Result<SchemaStatus>, schema_status, (), ())
  STRATA_GUARD_(Result<SchemaStatus>, migrate, (int target), (target))
  STRATA_GUARD_(Result<void>, create_user, (const User& u), (u))
  STRATA_GUARD_(Result<User>, get_user, (const Uuid& id), (id))
  STRATA_GUARD_(Result<User>, find_user_by_username, (std::string_view n), (n))
  STRATA_GUARD_(Result<User>, find_user_by_email, (std::string_view e), (e))
  STRATA_GUARD_(Result<void>, update_user, (const User& u), (u))
  STRATA_GUARD_(Result<void>, record_login, (const Uuid& id, Timestamp at), (id, at))
  STRATA_GUARD_(Result<void>, set_user_active, (const Uuid& id, bool active), (id, active))
  STRATA_GUARD_(Result<void>, delete_user, (const Uuid& id), (id))
  STRATA_GUARD_(Result<void>, insert_message, (const Message& m), (m))
  STRATA_GUARD_(Result<void>, insert_messages, (std::span<const Message> ms), (ms))
  STRATA_GUARD_(Result<Message>, get_message, (const Uuid& id), (id))
  STRATA_GUARD_(Result<Page<Message>>, inbox, (const Uuid& r, const PageRequest& p), (r, p))
  STRATA_GUARD_(Result<Page<Message>>, conversation,
                (const Uuid& a, const Uuid& b, const PageRequest& p), (a, b, p))
  STRATA_GUARD_(Result<void>, mark_read, (const Uuid& id, Timestamp at), (id, at))
  STRATA_GUARD_(Result<void>, soft_delete_message, (const Uuid& id), (id))
  STRATA_GUARD_(Result<std::uint64_t>, purge_expired, (Timestamp now), (now))
  STRATA_GUARD_(Result<void>, insert_key, (const KeyRecord& k), (k))
  STRATA_GUARD_(Result<KeyRecord>, get_key, (const Uuid& id), (id))
  STRATA_GUARD_(Result<std::vector<KeyRecord>>, keys_for_user, (const Uuid& u), (u))
  STRATA_GUARD_(Result<void>, deactivate_key, (const Uuid& id), (id))
  STRATA_GUARD_(Result<Page<Message>>, messages_not_under_key,
                (std::string_view k, const PageRequest& p), (k, p))
  STRATA_GUARD_(Result<std::uint64_t>, count_messages_not_under_key, (std::string_view k), (k))
  STRATA_GUARD_(Result<bool>, replace_message_content,
                (const Uuid& id, std::string_view expected, const Bytes& c, const Bytes& iv,
                 std::string_view k),
                (id, expected, c, iv, k))
  STRATA_GUARD_(Result<BackupReport>, backup, (const std::filesystem::path& d), (d))
  STRATA_GUARD_(Result<BackupReport>, restore, (const std::filesystem::path& d), (d))
  STRATA_GUARD_(Result<bool>, has_data, (), ())
 private:
  std::string plugin_;
};

/// Cache implementation behind a guard.
template <class Impl>
class GuardedCache final : public Impl {
 public:
  template <class Context>
  explicit GuardedCache(const Context& context) : Impl(context), plugin_(context.plugin) {}
  STRATA_GUARD_(Result<void>, health, (), ())
  STRATA_GUARD_(Result<std::optional<Bytes>>, get, (std::string_view k), (k))
  STRATA_GUARD_(Result<void>, set, (std::string_view k, BytesView v, std::optional<Ttl> t), (k, v, t))
  STRATA_GUARD_(Result<bool>, set_if_absent, (std::string_view k, BytesView v, std::optional<Ttl> t),
                (k, v, t))
  STRATA_GUARD_(Result<bool>, remove, (std::string_view k), (k))
  STRATA_GUARD_(Result<bool>, exists, (std::string_view k), (k))
  STRATA_GUARD_(Result<bool>, expire, (std::string_view k, Ttl t), (k, t))
  STRATA_GUARD_(Result<KeyTtl>, ttl, (std::string_view k), (k))
  STRATA_GUARD_(Result<std::vector<std::optional<Bytes>>>, get_many, (std::span<const std::string> ks),
                (ks))
  STRATA_GUARD_(Result<void>, set_many,
                (std::span<const std::pair<std::string, Bytes>> es, std::optional<Ttl> t), (es, t))
  STRATA_GUARD_(Result<std::int64_t>, increment,
                (std::string_view k, std::int64_t d, std::optional<Ttl> t), (k, d, t))
  STRATA_GUARD_(Result<std::uint64_t>, clear, (), ())
  STRATA_GUARD_(Result<BackupReport>, backup, (const std::filesystem::path& d), (d))
  STRATA_GUARD_(Result<BackupReport>, restore, (const std::filesystem::path& d), (d))
  STRATA_GUARD_(Result<bool>, has_data, (), ())
 private:
  std::string plugin_;
};

/// Audit implementation behind a guard.
template <class Impl>
class GuardedAudit final : public Impl {
 public:
  template <class Context>
  explicit GuardedAudit(const Context& context) : Impl(context), plugin_(context.plugin) {}
  STRATA_GUARD_(Result<void>, health, (), ())
  STRATA_GUARD_(Result<void>, append, (std::span<const AuditEvent> es), (es))
  STRATA_GUARD_(Result<void>, append_metrics, (std::span<const Metric> ms), (ms))
  STRATA_GUARD_(Result<std::vector<AuditEvent>>, query, (const AuditQuery& q), (q))
  STRATA_GUARD_(Result<std::uint64_t>, count, (const AuditQuery& q), (q))
  STRATA_GUARD_(Result<std::vector<Metric>>, query_metrics, (const MetricQuery& q), (q))
  STRATA_GUARD_(Result<BackupReport>, backup, (const std::filesystem::path& d), (d))
  STRATA_GUARD_(Result<BackupReport>, restore, (const std::filesystem::path& d), (d))
  STRATA_GUARD_(Result<bool>, has_data, (), ())
 private:
  std::string plugin_;
};

/// Cipher implementation behind a guard.
template <class Impl>
class GuardedCipher final : public Impl {
 public:
  template <class Context>
  explicit GuardedCipher(const Context& context) : Impl(context), plugin_(context.plugin) {}
  STRATA_GUARD_(Result<void>, health, (), ())
  STRATA_GUARD_(Result<std::string>, primary_key_id, (), ())
  STRATA_GUARD_(Result<std::vector<std::string>>, key_ids, (), ())
  STRATA_GUARD_(Result<Sealed>, seal, (BytesView p, BytesView ad), (p, ad))
  STRATA_GUARD_(Result<Bytes>, open, (const Sealed& s, BytesView ad), (s, ad))
  STRATA_GUARD_(Result<Sealed>, wrap, (BytesView m), (m))
  STRATA_GUARD_(Result<Bytes>, unwrap, (const Sealed& w), (w))
  STRATA_GUARD_(Result<Sealed>, seal_with_iv,
                (std::string_view id, BytesView iv, BytesView p, BytesView ad), (id, iv, p, ad))
 private:
  std::string plugin_;
};

#undef STRATA_GUARD_

}  // namespace strata::sdk
