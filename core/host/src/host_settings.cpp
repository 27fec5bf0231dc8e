// The host's own tables, [metrics] and [tracing]: schema and reader of each.

#include "host_settings.hpp"

namespace strata::detail {
namespace {

using sdk::ConfigType;
using sdk::ErrorCode;
using sdk::field;

void read_metrics(const sdk::ConfigView& v, HostSettings& s) {
  s.metrics.listen = v.find<std::string>("listen");
}

void read_tracing(const sdk::ConfigView& v, HostSettings& s) {
  auto& t = s.tracing;
  t.otlp_endpoint = v.find<std::string>("otlp_endpoint");
  if (t.otlp_endpoint && !t.otlp_endpoint->starts_with("http://") &&
      !t.otlp_endpoint->starts_with("https://"))
    throw sdk::Error{ErrorCode::invalid_argument,
                     "otlp_endpoint must be an http:// or https:// URL, got '" + *t.otlp_endpoint + "'",
                     {},
                     false};
  t.service_name = v.get<std::string>("service_name");
  t.sample_ratio = v.get<double>("sample_ratio");
  if (!(t.sample_ratio >= 0 && t.sample_ratio <= 1))
    throw sdk::Error{ErrorCode::invalid_argument,
                     "sample_ratio must be between 0 and 1, got " + std::to_string(t.sample_ratio),
                     {},
                     false};
  t.queue_size = static_cast<std::size_t>(v.get_in_range("queue_size", 1, 1'000'000));
  t.batch_size = static_cast<std::size_t>(v.get_in_range("batch_size", 1, 100'000));
  t.flush_interval = std::chrono::milliseconds(v.get_in_range("flush_interval_ms", 1, 3'600'000));
  t.export_timeout = std::chrono::milliseconds(v.get_in_range("export_timeout_ms", 1, 600'000));
}

// A table's check: read it into settings nobody keeps.
template <void (*Read)(const sdk::ConfigView&, HostSettings&)>
void check(const sdk::ConfigView& values) {
  HostSettings scratch;
  Read(values, scratch);
}

}  // namespace

const std::vector<ConfigTable>& host_own_tables() {
  static const std::vector<ConfigTable> tables{
      {"metrics",
       {field("listen", ConfigType::string,
              "serve the host's metrics for Prometheus at http://<listen>/metrics, e.g. \"127.0.0.1:9464\" "
              "(port 0: "
              "any free one); unset: no endpoint")},
       check<read_metrics>,
       {}},
      {"tracing",
       {field("otlp_endpoint", ConfigType::string,
              "export spans as OTLP/HTTP JSON to this URL, used as given (e.g. "
              "\"http://127.0.0.1:4318/v1/traces\"); "
              "unset: no export"),
        field("service_name", ConfigType::string, "the service.name spans are exported under")
            .or_default("strata"),
        field("sample_ratio", ConfigType::number,
              "share of new traces recorded, 0 to 1 (a caller's traceparent decides for its own trace)")
            .or_default(1.0),
        field("queue_size", ConfigType::integer,
              "spans waiting for export at most; more are dropped and counted")
            .or_default(2048),
        field("batch_size", ConfigType::integer, "spans per export request at most").or_default(512),
        field("flush_interval_ms", ConfigType::integer, "longest wait before a partial batch is sent")
            .or_default(1000),
        field("export_timeout_ms", ConfigType::integer,
              "time allowed for one export request, connecting included")
            .or_default(2000)},
       check<read_tracing>,
       {}},
  };
  return tables;
}

HostSettings read_host_settings(const std::function<const sdk::ConfigView&(std::string_view)>& table) {
  HostSettings s;
  read_metrics(table("metrics"), s);
  read_tracing(table("tracing"), s);
  return s;
}

const ConfigTable* find_table(std::string_view name) {
  for (const auto& table : host_own_tables())
    if (table.name == name) return &table;
  return find_config_table(name);
}

}  // namespace strata::detail

namespace strata {

sdk::Result<std::filesystem::path> default_data_dir(const EnvLookup& env) {
  if (auto dir = env("STRATA_DATA_DIR"); dir && !dir->empty()) return std::filesystem::path(*dir);
  if (auto xdg = env("XDG_DATA_HOME"); xdg && !xdg->empty()) return std::filesystem::path(*xdg) / "strata";
  if (auto home = env("HOME"); home && !home->empty())
    return std::filesystem::path(*home) / ".local" / "share" / "strata";
  return sdk::fail(sdk::ErrorCode::invalid_argument,
                   "no data directory: set STRATA_DATA_DIR, XDG_DATA_HOME or HOME (none is set)");
}

}  // namespace strata
