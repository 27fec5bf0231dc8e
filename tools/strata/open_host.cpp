#include "open_host.hpp"

#include <cstdio>
#include <cstdlib>

#include "output.hpp"

namespace strata::cli {

sdk::Result<std::unique_ptr<Host>> open_host(const std::string& config_path, std::vector<std::string>* notes) {
  HostOptions options;
  options.log = [notes](sdk::LogLevel level, std::string_view message) {
    if (level == sdk::LogLevel::info && notes) notes->emplace_back(message);
    if (level < sdk::LogLevel::warning) return;
    std::fprintf(stderr, "strata: %s: %.*s\n", level == sdk::LogLevel::warning ? "warning" : "error",
                 static_cast<int>(message.size()), message.data());
  };
  if (!config_path.empty()) return Host::open_file(config_path, options);
  if (const char* env = std::getenv("STRATA_CONFIG"); env && *env) return Host::open_file(env, options);
  return Host::open_embedded(options);
}

std::unique_ptr<Services> open_services(const Host& host) {
  auto services = Services::open(host, ServicesOptions{false});
  if (!services) {
    report_error(services.error());
    return nullptr;
  }
  return std::move(*services);
}

std::uint64_t audit_events_lost(const Host& host) {
  // The services' audit pipelines count into the host's metrics (AuditLog::lost()).
  return host.metrics()->counter("strata_audit_events_total", "", {{"outcome", "lost"}}).value();
}

}  // namespace strata::cli
