#pragma once
// A cache that records its start and stop through the host's logger, for
// lifecycle tests and as the provider of deliberately broken plugins. Only
// health() works; it is a test fixture, not a cache.

#include <stdexcept>

#include "strata/sdk/sdk.hpp"

namespace strata::test {

class TestCache : public sdk::Cache {
 public:
  explicit TestCache(const sdk::PluginContext& context) : log_(context.log), instance_(context.instance) {
#ifdef STRATA_TEST_THROW_ON_START
    throw std::runtime_error("refusing to start, on purpose");
#endif
    log_(sdk::LogLevel::info, "start " + instance_);
  }
  ~TestCache() override { log_(sdk::LogLevel::info, "stop " + instance_); }
  static sdk::ConfigSchema config_schema() { return {}; }

  sdk::Result<void> health() override { return {}; }
  sdk::Result<std::optional<sdk::Bytes>> get(std::string_view) override { return none(); }
  sdk::Result<void> set(std::string_view, sdk::BytesView, std::optional<sdk::Ttl>) override { return none(); }
  sdk::Result<bool> set_if_absent(std::string_view, sdk::BytesView, std::optional<sdk::Ttl>) override { return none(); }
  sdk::Result<bool> remove(std::string_view) override { return none(); }
  sdk::Result<bool> exists(std::string_view key) override {
    if (key == "throw") throw std::logic_error("thrown inside the plugin");
    return none();
  }
  sdk::Result<bool> expire(std::string_view, sdk::Ttl) override { return none(); }
  sdk::Result<sdk::KeyTtl> ttl(std::string_view) override { return none(); }
  sdk::Result<std::vector<std::optional<sdk::Bytes>>> get_many(std::span<const std::string>) override { return none(); }
  sdk::Result<void> set_many(std::span<const std::pair<std::string, sdk::Bytes>>, std::optional<sdk::Ttl>) override {
    return none();
  }
  sdk::Result<std::int64_t> increment(std::string_view, std::int64_t, std::optional<sdk::Ttl>) override { return none(); }
  sdk::Result<std::uint64_t> clear() override { return none(); }

 private:
  static sdk::Unexpected none() { return sdk::fail(sdk::ErrorCode::unsupported, "test cache stores nothing"); }

  sdk::Logger log_;
  std::string instance_;
};

}  // namespace strata::test
