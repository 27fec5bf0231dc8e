#include "open_host.hpp"

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "embedded_config.hpp"

namespace strata::cli {
namespace {

std::string random_key_hex() {
  std::random_device os_random;  // getrandom(2) on Linux
  std::string hex;
  for (int i = 0; i < 8; ++i) hex += fmt::format("{:08x}", os_random());
  return hex;
}

bool env_set(const char* name) {
  const char* value = std::getenv(name);
  return value && *value;
}

}  // namespace

sdk::Result<std::unique_ptr<Host>> open_host(const std::string& config_path) {
  if (!config_path.empty()) return Host::open_file(config_path);
  if (env_set("STRATA_CONFIG")) return Host::open_file(std::getenv("STRATA_CONFIG"));

  HostOptions options;
  if (!env_set("STRATA_KEY") && !env_set("DB_ENCRYPTION_KEY")) {
    std::fputs(
        "strata: warning: neither STRATA_KEY nor DB_ENCRYPTION_KEY is set; using an ephemeral key "
        "(what this run encrypts cannot be decrypted by a later run)\n",
        stderr);
    options.env = [process = process_env(), key = random_key_hex()](std::string_view name) {
      return name == "STRATA_KEY" ? std::optional<std::string>(key) : process(name);
    };
  }
  return Host::open_string(embedded_config, std::move(options), "<built-in embedded.toml>");
}

}  // namespace strata::cli
