#include "open_host.hpp"

#include <cstdlib>

#include "embedded_config.hpp"

namespace strata::cli {

sdk::Result<std::unique_ptr<Host>> open_host(const std::string& config_path) {
  if (!config_path.empty()) return Host::open_file(config_path);
  if (const char* env = std::getenv("STRATA_CONFIG"); env && *env) return Host::open_file(env);
  return Host::open_string(embedded_config, {}, "<built-in embedded.toml>");
}

}  // namespace strata::cli
