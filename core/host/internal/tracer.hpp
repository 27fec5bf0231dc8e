#pragma once
// The host's tracer: starts spans (children of the thread's current trace
// context, or of a traceparent the application passed), and hands each
// finished one to the application's callback and to the OTLP exporter.
// Inactive (no [tracing] otlp_endpoint, no HostOptions::on_span): the host
// gives the decorators no tracer at all, so a call pays one null check.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "strata/host_settings.hpp"
#include "strata/metrics.hpp"
#include "strata/sdk/error.hpp"
#include "strata/tracing.hpp"

namespace strata {

class OtlpExporter;

class Tracer {
 public:
  /// A span being recorded; ends (as a success) when it goes, unless end() was called.
  class Span {
   public:
    Span() = default;  ///< records nothing
    Span(Span&& other) noexcept;
    Span& operator=(Span&&) = delete;
    Span(const Span&) = delete;
    ~Span();

    /// Whether it records (false: not sampled, or no tracer).
    bool recording() const noexcept { return tracer_ != nullptr; }
    /// Adds an attribute (nothing when not recording).
    void attribute(std::string key, std::string value);
    /// Ends it; `error_type` names the error when the call failed.
    void end(std::optional<std::string> error_type = std::nullopt);

   private:
    friend class Tracer;
    Tracer* tracer_ = nullptr;
    SpanRecord record_;
    bool restores_ = false;                  // it made itself the thread's current context
    std::optional<TraceContext> previous_;   // what to put back then
  };

  /// `settings.otlp_endpoint` set: spans are also exported (the exporter may
  /// refuse the endpoint: the error names it).
  static sdk::Result<std::shared_ptr<Tracer>> open(const TracingSettings& settings, SpanCallback callback,
                                                   std::shared_ptr<Metrics> metrics);
  ~Tracer();

  /// A span named `name`: a child of `parent` when given, else of the
  /// thread's current context, else the root of a new trace (sampled by
  /// [tracing] sample_ratio). With `make_current`, spans started on this
  /// thread until it ends are its children (a services call's span).
  Span start(std::string name, SpanRecord::Kind kind, const std::optional<TraceContext>& parent = std::nullopt,
             bool make_current = false);

  /// Waits until the exporter sent or dropped every span finished so far (tests, shutdown).
  void flush();

 private:
  Tracer(TracingSettings settings, SpanCallback callback, std::unique_ptr<OtlpExporter> exporter);
  void finish(SpanRecord record);

  TracingSettings settings_;
  SpanCallback callback_;
  std::unique_ptr<OtlpExporter> exporter_;
};

}  // namespace strata
