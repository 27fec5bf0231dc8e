#pragma once
// The current thread's trace context: what TraceScope sets and what a span
// started on this thread takes as its parent (and replaces while it runs).

#include <optional>

#include "strata/tracing.hpp"

namespace strata::detail {

extern thread_local std::optional<TraceContext> current_context;

}  // namespace strata::detail
