#pragma once
// The span of one services call (users.register, messages.send, …): a child
// of the traceparent the application passed in Origin, else of the thread's
// current context; the current context itself while the call runs, so the
// plugin calls it makes are its children and its audit events carry it.
//
//   return traced(ctx_, "messages.read", origin, [&]() -> sdk::Result<ReadMessage> {
//     ...                     // the call's body; its outcome is the span's
//   });

#include <optional>
#include <string>

#include "strata/services/context.hpp"
#include "tracer.hpp"

namespace strata {

class ServiceSpan {
 public:
  ServiceSpan(const ServiceContext& context, const char* name, const Origin& origin = {}) {
    if (!context.tracer) return;  // tracing off: nothing at all
    span_.emplace(
        context.tracer->start(name, SpanRecord::Kind::internal, TraceContext::parse(origin.traceparent), true));
    span_->attribute("strata.operation", name);
  }

  /// Ends the span with `result`'s outcome and hands `result` back.
  template <class T>
  sdk::Result<T> end(sdk::Result<T> result) {
    if (span_) span_->end(result ? std::nullopt : std::optional<std::string>(std::string(sdk::to_string(result.error().code))));
    return result;
  }

 private:
  std::optional<Tracer::Span> span_;  // none: tracing off
};

/// Runs `body` inside the span of the services call `name` and records its outcome.
template <class Body>
auto traced(const ServiceContext& context, const char* name, const Origin& origin, Body&& body) {
  ServiceSpan span(context, name, origin);
  return span.end(body());
}

}  // namespace strata
