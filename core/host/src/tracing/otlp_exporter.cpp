// OTLP/HTTP JSON export of spans, batched on a sender thread.

#include "otlp_exporter.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>

namespace strata {
namespace {

using nlohmann::json;

std::string hex(const std::uint8_t* bytes, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 0xf];
  }
  return out;
}

// An OTLP AnyValue: ports as integers (the convention's type), the rest as strings.
json attribute(const std::string& key, const std::string& value) {
  if (key.ends_with(".port")) return {{"key", key}, {"value", {{"intValue", value}}}};
  return {{"key", key}, {"value", {{"stringValue", value}}}};
}

json span_json(const SpanRecord& s) {
  json span{{"traceId", s.context.trace_id_hex()},
            {"spanId", s.context.span_id_hex()},
            {"name", s.name},
            {"kind", s.kind == SpanRecord::Kind::client ? 3 : 1},  // SPAN_KIND_CLIENT / _INTERNAL
            {"startTimeUnixNano", std::to_string(s.start_unix_ns)},
            {"endTimeUnixNano", std::to_string(s.end_unix_ns)}};
  if (s.parent_span_id) span["parentSpanId"] = hex(s.parent_span_id->data(), s.parent_span_id->size());
  json attributes = json::array();
  for (const auto& [key, value] : s.attributes) attributes.push_back(attribute(key, value));
  if (s.error_type) {
    attributes.push_back(attribute("error.type", *s.error_type));
    span["status"] = {{"code", 2}, {"message", *s.error_type}};  // STATUS_CODE_ERROR
  }
  span["attributes"] = std::move(attributes);
  return span;
}

std::size_t discard_body(char*, std::size_t size, std::size_t count, void*) { return size * count; }

}  // namespace

std::string OtlpExporter::request_body(const std::vector<SpanRecord>& spans, const std::string& service_name) {
  json list = json::array();
  for (const auto& s : spans) list.push_back(span_json(s));
  json body{{"resourceSpans",
             json::array({{{"resource", {{"attributes", json::array({attribute("service.name", service_name)})}}},
                           {"scopeSpans", json::array({{{"scope", {{"name", "strata"}}}, {"spans", std::move(list)}}})}}})}};
  return body.dump();
}

sdk::Result<std::unique_ptr<OtlpExporter>> OtlpExporter::open(const TracingSettings& settings,
                                                               std::shared_ptr<Metrics> metrics) {
  static std::once_flag curl_initialized;
  CURLcode initialized = CURLE_OK;
  std::call_once(curl_initialized, [&] { initialized = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (initialized != CURLE_OK)
    return sdk::fail(sdk::ErrorCode::internal, std::string("[tracing]: libcurl did not initialize: ") +
                                                   curl_easy_strerror(initialized));
  CURL* curl = curl_easy_init();
  if (!curl) return sdk::fail(sdk::ErrorCode::internal, "[tracing]: libcurl could not make a handle");
  std::unique_ptr<OtlpExporter> exporter(new OtlpExporter(settings, std::move(metrics)));
  exporter->curl_ = curl;
  exporter->sender_ = std::thread([e = exporter.get()] { e->run(); });
  return exporter;
}

OtlpExporter::OtlpExporter(TracingSettings settings, std::shared_ptr<Metrics> metrics)
    : settings_(std::move(settings)), metrics_(std::move(metrics)),
      exported_(metrics_->counter("strata_spans_exported_total", "Spans the OTLP exporter sent to the collector.")),
      dropped_full_(metrics_->counter("strata_spans_dropped_total",
                                      "Spans dropped: the export queue was full, or the collector refused or "
                                      "did not answer.",
                                      {{"reason", "queue_full"}})),
      dropped_failed_(metrics_->counter("strata_spans_dropped_total", "", {{"reason", "export_failed"}})) {}

OtlpExporter::~OtlpExporter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (sender_.joinable()) sender_.join();
  curl_easy_cleanup(static_cast<CURL*>(curl_));
}

void OtlpExporter::submit(SpanRecord span) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= settings_.queue_size) {
      dropped_full_.add();
      return;
    }
    queue_.push_back(std::move(span));
    ++submitted_;
    if (queue_.size() < settings_.batch_size) return;  // the sender wakes on its interval
  }
  wake_.notify_one();
}

void OtlpExporter::flush() {
  std::unique_lock lock(mutex_);
  const auto target = submitted_;
  flushing_ = true;
  wake_.notify_one();
  // Each batch takes at most export_timeout; the bound only guards against a wedged sender.
  const auto batches = static_cast<int>((queue_.size() + settings_.batch_size - 1) / settings_.batch_size + 2);
  settled_.wait_for(lock, settings_.export_timeout * batches + settings_.flush_interval,
                    [&] { return settled_count_ >= target; });
}

void OtlpExporter::run() {
  std::unique_lock lock(mutex_);
  bool last_failed = false;
  for (;;) {
    wake_.wait_for(lock, settings_.flush_interval, [&] {
      return stopping_ || queue_.size() >= settings_.batch_size || (flushing_ && !queue_.empty());
    });
    if (stopping_ && last_failed && !queue_.empty()) {
      // Closing while the collector fails: what is left is dropped, not waited for.
      dropped_failed_.add(queue_.size());
      settled_count_ += queue_.size();
      queue_.clear();
    }
    if (queue_.empty()) {
      flushing_ = false;
      settled_.notify_all();
      if (stopping_) return;
      continue;
    }
    std::vector<SpanRecord> batch;
    const auto n = std::min(queue_.size(), settings_.batch_size);
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    std::string error;
    last_failed = !post(request_body(batch, settings_.service_name), error);
    (last_failed ? dropped_failed_ : exported_).add(batch.size());
    lock.lock();
    settled_count_ += batch.size();
    settled_.notify_all();
  }
}

bool OtlpExporter::post(const std::string& body, std::string& error) {
  auto* curl = static_cast<CURL*>(curl_);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, settings_.otlp_endpoint->c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.export_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // a thread of a library: no SIGALRM for timeouts
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &discard_body);
  CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  if (code != CURLE_OK) {
    error = curl_easy_strerror(code);
    return false;
  }
  if (status < 200 || status >= 300) {
    error = "HTTP " + std::to_string(status);
    return false;
  }
  return true;
}

}  // namespace strata
