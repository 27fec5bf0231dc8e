#pragma once
// Traces: W3C trace context in and out, and the spans Strata records (one
// per services call, one per plugin call beneath it). An application hands
// Strata the `traceparent` of the request it serves — in Origin::traceparent,
// or for a whole scope with TraceScope — and Strata's spans continue that
// trace. Finished spans go to the OTLP exporter ([tracing] otlp_endpoint)
// and to a callback the application registers (HostOptions::on_span).

#include "strata/export.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata {

/// A W3C trace context: which trace, which span in it, sampled or not.
struct STRATA_API TraceContext {
  std::array<std::uint8_t, 16> trace_id{};
  std::array<std::uint8_t, 8> span_id{};
  bool sampled = true;

  /// A `traceparent` header ("00-<32 hex>-<16 hex>-<2 hex flags>"); nullopt
  /// when malformed, or when an id is all zeros (the W3C rules: the callee
  /// then starts a trace of its own).
  static std::optional<TraceContext> parse(std::string_view traceparent);
  /// The `traceparent` of this context, version 00.
  std::string traceparent() const;
  std::string trace_id_hex() const;
  std::string span_id_hex() const;
};

/// One finished span, as the exporter and the callback get it.
struct SpanRecord {
  enum class Kind { internal, client };
  TraceContext context;                        ///< its trace and its own span id
  std::optional<std::array<std::uint8_t, 8>> parent_span_id;  ///< none: a root span
  std::string name;                            ///< "messages.send", "insert_sends strata"
  Kind kind = Kind::internal;                  ///< client: a plugin call to a database
  std::int64_t start_unix_ns = 0;
  std::int64_t end_unix_ns = 0;
  /// The OpenTelemetry attributes (db.system.name, db.operation.name, …,
  /// strata.role, strata.instance), string-valued, server.port included.
  std::vector<std::pair<std::string, std::string>> attributes;
  std::optional<std::string> error_type;       ///< set when it failed: the error code's name
};

/// Called with each finished span, on the thread that ran it: keep it short.
using SpanCallback = std::function<void(const SpanRecord&)>;

/// Makes `context` the current trace context of this thread while the scope
/// lives: spans started meanwhile are its children. Scopes nest.
class STRATA_API TraceScope {
 public:
  explicit TraceScope(const TraceContext& context);
  ~TraceScope();
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;

 private:
  std::optional<TraceContext> previous_;
};

/// This thread's current trace context (the innermost TraceScope or span), if any.
STRATA_API std::optional<TraceContext> current_trace_context();

}  // namespace strata
