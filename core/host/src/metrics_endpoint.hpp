#pragma once
// The /metrics scrape endpoint an embedding application can turn on
// ([metrics] listen = "127.0.0.1:9464"): the host's Metrics registry served
// in the Prometheus text format by prometheus-cpp's exposer (civetweb), so
// no HTTP parsing of Strata's own. Scrapes read the registry's atomic
// counters; nothing is added to a plugin call. Gauges the plugins measure
// (replica lag, the Redis topology, connection pools, the outbox backlog)
// are asked for at each scrape, as a Prometheus collector does.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "strata/metrics.hpp"
#include "strata/sdk/error.hpp"

namespace prometheus {
class Exposer;
}

namespace strata::detail {

class MetricsEndpoint {
 public:
  /// What the plugins measure now, read at each scrape (plugins' gauges).
  using Gauges = std::function<std::vector<sdk::Metric>()>;

  /// Listens on `address` ("host:port"; port 0 picks a free one) and serves
  /// `metrics` and `gauges`. `unavailable` naming the address when it cannot listen.
  static sdk::Result<std::unique_ptr<MetricsEndpoint>> open(const std::string& address,
                                                            std::shared_ptr<const Metrics> metrics, Gauges gauges);
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
