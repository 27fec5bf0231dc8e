#include "example_cache.hpp"

#include <charconv>

namespace example {

using namespace strata::sdk;

ExampleCache::ExampleCache(const PluginContext& context)
    : clock_(context.clock), default_ttl_(std::chrono::seconds(context.config.get<std::int64_t>("default_ttl_s"))) {
  if (default_ttl_.count() <= 0) throw Error{ErrorCode::invalid_argument, "default_ttl_s must be positive", {}, false};
}

ConfigSchema ExampleCache::config_schema() {
  return {field("default_ttl_s", ConfigType::integer, "TTL in seconds for values stored without one").or_default(3600)};
}

Result<void> ExampleCache::health() { return {}; }

ExampleCache::Entry* ExampleCache::find(std::string_view key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  if (it->second.expires_at <= clock_->now()) {
    entries_.erase(it);
    return nullptr;
  }
  return &it->second;
}

Result<Timestamp> ExampleCache::deadline(std::optional<Ttl> ttl) const {
  Ttl t = ttl.value_or(default_ttl_);
  if (t.count() <= 0) return fail(ErrorCode::invalid_argument, "TTL must be positive");
  return clock_->now() + t;
}

Result<std::optional<Bytes>> ExampleCache::get(std::string_view key) {
  std::lock_guard lock(mutex_);
  Entry* e = find(key);
  return e ? std::optional<Bytes>(e->value) : std::nullopt;
}

Result<void> ExampleCache::set(std::string_view key, BytesView value, std::optional<Ttl> ttl) {
  auto until = deadline(ttl);
  if (!until) return fail(until.error());
  std::lock_guard lock(mutex_);
  entries_.insert_or_assign(std::string(key), Entry{Bytes(value.begin(), value.end()), *until});
  return {};
}

Result<bool> ExampleCache::set_if_absent(std::string_view key, BytesView value, std::optional<Ttl> ttl) {
  auto until = deadline(ttl);
  if (!until) return fail(until.error());
  std::lock_guard lock(mutex_);
  if (find(key)) return false;
  entries_.insert_or_assign(std::string(key), Entry{Bytes(value.begin(), value.end()), *until});
  return true;
}

Result<bool> ExampleCache::remove(std::string_view key) {
  std::lock_guard lock(mutex_);
  if (!find(key)) return false;
  entries_.erase(entries_.find(key));
  return true;
}

Result<bool> ExampleCache::exists(std::string_view key) {
  std::lock_guard lock(mutex_);
  return find(key) != nullptr;
}

Result<bool> ExampleCache::expire(std::string_view key, Ttl ttl) {
  auto until = deadline(ttl);
  if (!until) return fail(until.error());
  std::lock_guard lock(mutex_);
  Entry* e = find(key);
  if (!e) return false;
  e->expires_at = *until;
  return true;
}

Result<KeyTtl> ExampleCache::ttl(std::string_view key) {
  std::lock_guard lock(mutex_);
  Entry* e = find(key);
  if (!e) return KeyTtl{};
  auto left = std::chrono::microseconds(e->expires_at.micros() - clock_->now().micros());
  return KeyTtl{true, std::chrono::duration_cast<Ttl>(left)};
}

Result<std::vector<std::optional<Bytes>>> ExampleCache::get_many(std::span<const std::string> keys) {
  std::vector<std::optional<Bytes>> out;
  for (const auto& key : keys) {
    auto value = get(key);
    if (!value) return fail(value.error());
    out.push_back(std::move(*value));
  }
  return out;
}

Result<void> ExampleCache::set_many(std::span<const std::pair<std::string, Bytes>> entries, std::optional<Ttl> ttl) {
  for (const auto& [key, value] : entries)
    if (auto stored = set(key, value, ttl); !stored) return stored;
  return {};
}

Result<std::int64_t> ExampleCache::increment(std::string_view key, std::int64_t delta, std::optional<Ttl> ttl) {
  auto until = deadline(ttl);
  if (!until) return fail(until.error());
  std::lock_guard lock(mutex_);
  std::int64_t value = 0;
  Entry* e = find(key);
  if (e) {
    auto text = to_string(e->value);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
      return fail(ErrorCode::invalid_argument, "the value is not a decimal integer");
  }
  value += delta;
  auto text = std::to_string(value);
  if (e) e->value = to_bytes(text);
  else entries_.insert_or_assign(std::string(key), Entry{to_bytes(text), *until});
  return value;
}

Result<std::uint64_t> ExampleCache::clear() {
  std::lock_guard lock(mutex_);
  auto count = static_cast<std::uint64_t>(entries_.size());
  entries_.clear();
  return count;
}

}  // namespace example
