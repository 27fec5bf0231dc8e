#include "metrics_endpoint.hpp"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <exception>
#include <map>

namespace strata::detail {
namespace {

prometheus::MetricFamily family_of(const MetricFamilySnapshot& family) {
  using Type = MetricFamilySnapshot::Type;
  prometheus::MetricFamily f;
  f.name = family.name;
  f.help = family.help;
  f.type = family.type == Type::histogram ? prometheus::MetricType::Histogram
           : family.type == Type::gauge   ? prometheus::MetricType::Gauge
                                          : prometheus::MetricType::Counter;
  for (const auto& s : family.series) {
    prometheus::ClientMetric m;
    for (const auto& [name, value] : s.labels) m.label.push_back({name, value});
    switch (family.type) {
      case Type::histogram:
        m.histogram.sample_count = s.count;
        m.histogram.sample_sum = s.sum;
        for (const auto& [bound, cumulative] : s.buckets) m.histogram.bucket.push_back({cumulative, bound});
        break;
      case Type::gauge: m.gauge.value = s.value; break;
      case Type::counter: m.counter.value = s.value; break;
    }
    f.metric.push_back(std::move(m));
  }
  return f;
}

// Gauge records grouped into families by name; a name ending in _total is a
// counter the plugin keeps (e.g. reads served by a replica).
std::vector<MetricFamilySnapshot> gauge_families(const std::vector<sdk::Metric>& records) {
  std::map<std::string, MetricFamilySnapshot> families;
  for (const auto& r : records) {
    auto& f = families[r.name];
    if (f.name.empty()) {
      f.name = r.name;
      f.help = "Measured by the plugin at scrape time.";
      f.type = r.name.ends_with("_total") ? MetricFamilySnapshot::Type::counter : MetricFamilySnapshot::Type::gauge;
    }
    MetricFamilySnapshot::Series s;
    s.labels = r.labels;
    s.value = r.value;
    f.series.push_back(std::move(s));
  }
  std::vector<MetricFamilySnapshot> out;
  for (auto& [name, family] : families) out.push_back(std::move(family));
  return out;
}

// The registry's families and the plugins' gauges as prometheus-cpp's, built at each scrape.
class Collector final : public prometheus::Collectable {
 public:
  Collector(std::shared_ptr<const Metrics> metrics, MetricsEndpoint::Gauges gauges)
      : metrics_(std::move(metrics)), gauges_(std::move(gauges)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    auto families = metrics_->snapshot();
    if (gauges_)
      for (auto& f : gauge_families(gauges_())) families.push_back(std::move(f));
    std::vector<prometheus::MetricFamily> out;
    for (const auto& family : families)
      if (!family.series.empty()) out.push_back(family_of(family));
    return out;
  }

 private:
  std::shared_ptr<const Metrics> metrics_;
  MetricsEndpoint::Gauges gauges_;
};

}  // namespace

sdk::Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::open(const std::string& address,
                                                                    std::shared_ptr<const Metrics> metrics,
                                                                    Gauges gauges) {
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
  auto collector = std::make_shared<Collector>(std::move(metrics), std::move(gauges));
  endpoint->exposer_->RegisterCollectable(collector);
  endpoint->collectable_ = collector;
  auto ports = endpoint->exposer_->GetListeningPorts();
  endpoint->address_ = address.substr(0, colon) + ":" + (ports.empty() ? address.substr(colon + 1) : std::to_string(ports.front()));
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() = default;

}  // namespace strata::detail
