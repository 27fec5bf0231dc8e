#pragma once
// The /metrics scrape endpoint an embedding application can turn on
// ([metrics] listen = "127.0.0.1:9464"): the host's Metrics registry served
// in the Prometheus text format by prometheus-cpp's exposer (civetweb), so
// no HTTP parsing of Strata's own. Scrapes read the registry's atomic
// counters; nothing is added to a plugin call.

#include <memory>
#include <string>

#include "strata/metrics.hpp"
#include "strata/sdk/error.hpp"

namespace prometheus {
class Exposer;
}

namespace strata::detail {

class MetricsEndpoint {
 public:
  /// Listens on `address` ("host:port"; port 0 picks a free one).
  /// `unavailable` naming the address when it cannot listen.
  static sdk::Result<std::unique_ptr<MetricsEndpoint>> open(const std::string& address,
                                                            std::shared_ptr<const Metrics> metrics);
  ~MetricsEndpoint();

  /// Where it listens, "host:port" with the port it bound.
  const std::string& address() const { return address_; }

 private:
  MetricsEndpoint() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<void> collectable_;  // the adapter the exposer holds weakly
  std::string address_;
};

}  // namespace strata::detail
