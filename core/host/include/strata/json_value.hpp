#pragma once
// JSON values in a cache, as the seed's TypeScript Cache class stores them:
// JSON.stringify(value) under the key. Values written by either side read on
// the other. T converts with nlohmann::json (to_json/from_json, or the
// NLOHMANN_DEFINE_TYPE_* macros).

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "strata/sdk/cache.hpp"

namespace strata {

/// The value under `key` converted to T; nullopt when absent. A value that is
/// not JSON, or not convertible to T, is `invalid_argument` naming the key.
template <class T>
sdk::Result<std::optional<T>> get_json(sdk::Cache& cache, std::string_view key) {
  auto stored = cache.get(key);
  if (!stored) return sdk::fail(stored.error());
  if (!*stored) return std::optional<T>();
  auto json = nlohmann::json::parse((*stored)->begin(), (*stored)->end(), nullptr, false);
  if (json.is_discarded())
    return sdk::fail(sdk::ErrorCode::invalid_argument, "the value under '" + std::string(key) + "' is not JSON");
  try {
    return std::optional<T>(json.template get<T>());
  } catch (const nlohmann::json::exception& e) {
    return sdk::fail(sdk::ErrorCode::invalid_argument,
                     "the JSON under '" + std::string(key) + "' does not fit the expected type: " + e.what());
  }
}

/// Stores `value` as compact JSON under `key`, as JSON.stringify would (members
/// in nlohmann::json's sorted order; the seed's JSON.parse reads either order).
template <class T>
sdk::Result<void> set_json(sdk::Cache& cache, std::string_view key, const T& value,
                           std::optional<sdk::Ttl> ttl = std::nullopt) {
  std::string text = nlohmann::json(value).dump();
  return cache.set(key, sdk::as_bytes(text), ttl);
}

}  // namespace strata
