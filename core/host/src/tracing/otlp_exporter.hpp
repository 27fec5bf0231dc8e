#pragma once
// Spans to an OpenTelemetry collector: OTLP over HTTP with the JSON encoding
// (libcurl), in batches from a bounded queue on a thread of its own. A call
// only ever queues its span: when the queue is full (the collector slow or
// down) the span is dropped and counted, never waited for.
//
// Counted in the host's metrics: strata_spans_exported_total and
// strata_spans_dropped_total{reason="queue_full"|"export_failed"}.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "strata/host_settings.hpp"
#include "strata/metrics.hpp"
#include "strata/sdk/error.hpp"
#include "strata/tracing.hpp"

namespace strata {

class OtlpExporter {
 public:
  static sdk::Result<std::unique_ptr<OtlpExporter>> open(const TracingSettings& settings,
                                                         std::shared_ptr<Metrics> metrics);
  /// Sends what is queued (each request within export_timeout), then stops.
  ~OtlpExporter();
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  /// Queues a finished span; drops and counts it when the queue is full.
  void submit(SpanRecord span);
  /// Waits until every span submitted so far was exported or dropped.
  void flush();

  /// The OTLP/JSON request body for `spans` (ids in hex, times as decimal strings).
  static std::string request_body(const std::vector<SpanRecord>& spans, const std::string& service_name);

 private:
  OtlpExporter(TracingSettings settings, std::shared_ptr<Metrics> metrics);
  void run();
  bool post(const std::string& body, std::string& error);

  TracingSettings settings_;
  std::shared_ptr<Metrics> metrics_;
  Counter& exported_;
  Counter& dropped_full_;
  Counter& dropped_failed_;

  std::mutex mutex_;
  std::condition_variable wake_;     // the sender: spans waiting, or stopping
  std::condition_variable settled_;  // flush(): a batch was sent or dropped
  std::deque<SpanRecord> queue_;
  std::uint64_t submitted_ = 0;      // spans accepted into the queue
  std::uint64_t settled_count_ = 0;  // of those, exported or dropped
  bool flushing_ = false;            // flush() waits: send partial batches at once
  bool stopping_ = false;
  void* curl_ = nullptr;             // the sender thread's CURL handle (kept alive between requests)
  std::thread sender_;
};

}  // namespace strata
