#include "metrics_endpoint.hpp"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <exception>

namespace strata::detail {
namespace {

// The registry's families as prometheus-cpp's, built at each scrape.
class Collector final : public prometheus::Collectable {
 public:
  explicit Collector(std::shared_ptr<const Metrics> metrics) : metrics_(std::move(metrics)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    for (const auto& family : metrics_->snapshot()) {
      const bool histogram = family.type == MetricFamilySnapshot::Type::histogram;
      prometheus::MetricFamily f;
      f.name = family.name;
      f.help = family.help;
      f.type = histogram ? prometheus::MetricType::Histogram : prometheus::MetricType::Counter;
      for (const auto& s : family.series) {
        prometheus::ClientMetric m;
        for (const auto& [name, value] : s.labels) m.label.push_back({name, value});
        if (histogram) {
          m.histogram.sample_count = s.count;
          m.histogram.sample_sum = s.sum;
          for (const auto& [bound, cumulative] : s.buckets) m.histogram.bucket.push_back({cumulative, bound});
        } else {
          m.counter.value = s.value;
        }
        f.metric.push_back(std::move(m));
      }
      if (!f.metric.empty()) out.push_back(std::move(f));
    }
    return out;
  }

 private:
  std::shared_ptr<const Metrics> metrics_;
};

}  // namespace

sdk::Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::open(const std::string& address,
                                                                    std::shared_ptr<const Metrics> metrics) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
    return sdk::fail(sdk::ErrorCode::invalid_argument,
                     "[metrics] listen must be \"host:port\" (e.g. \"127.0.0.1:9464\"), not \"" + sdk::excerpt(address, 80) +
                         "\"");
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  try {
    // Two threads: a scrape never waits for another one.
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(address, 2);
  } catch (const std::exception& e) {
    return sdk::fail(sdk::ErrorCode::unavailable,
                     "[metrics] cannot listen on " + address + ": " + e.what() + " (in use, or not an address of this host)");
  }
  auto collector = std::make_shared<Collector>(std::move(metrics));
  endpoint->exposer_->RegisterCollectable(collector);
  endpoint->collectable_ = collector;
  auto ports = endpoint->exposer_->GetListeningPorts();
  endpoint->address_ = address.substr(0, colon) + ":" + (ports.empty() ? address.substr(colon + 1) : std::to_string(ports.front()));
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() = default;

}  // namespace strata::detail
