// W3C trace context: parsing and printing `traceparent`, and the thread's
// current context that spans take as their parent.

#include "strata/tracing.hpp"

#include <algorithm>

#include "trace_stack.hpp"

namespace strata {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is invalid in a traceparent
}

// Lower-case hex into `out`; ids must not be all zeros, a version or flags may.
template <std::size_t N>
bool parse_hex(std::string_view text, std::array<std::uint8_t, N>& out, bool zero_allowed = false) {
  if (text.size() != 2 * N) return false;
  for (std::size_t i = 0; i < N; ++i) {
    int high = hex_digit(text[2 * i]), low = hex_digit(text[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    out[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  return zero_allowed || std::any_of(out.begin(), out.end(), [](std::uint8_t b) { return b != 0; });
}

template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(2 * N, '0');
  for (std::size_t i = 0; i < N; ++i) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

std::optional<TraceContext> TraceContext::parse(std::string_view traceparent) {
  // version "-" trace-id "-" parent-id "-" trace-flags. A later version may
  // append fields after another "-", which version 00 parsing ignores; "ff"
  // is never valid.
  if (traceparent.size() < 55 || traceparent[2] != '-' || traceparent[35] != '-' || traceparent[52] != '-')
    return std::nullopt;
  std::array<std::uint8_t, 1> version{}, flags{};
  if (!parse_hex(traceparent.substr(0, 2), version, true) || version[0] == 0xff) return std::nullopt;
  if (version[0] == 0 ? traceparent.size() != 55 : traceparent.size() > 55 && traceparent[55] != '-')
    return std::nullopt;
  TraceContext context;
  if (!parse_hex(traceparent.substr(3, 32), context.trace_id)) return std::nullopt;
  if (!parse_hex(traceparent.substr(36, 16), context.span_id)) return std::nullopt;
  if (!parse_hex(traceparent.substr(53, 2), flags, true)) return std::nullopt;
  context.sampled = (flags[0] & 0x01) != 0;
  return context;
}

std::string TraceContext::traceparent() const {
  return "00-" + trace_id_hex() + "-" + span_id_hex() + (sampled ? "-01" : "-00");
}
std::string TraceContext::trace_id_hex() const { return hex(trace_id); }
std::string TraceContext::span_id_hex() const { return hex(span_id); }

namespace detail {
thread_local std::optional<TraceContext> current_context;
}  // namespace detail

TraceScope::TraceScope(const TraceContext& context) : previous_(detail::current_context) {
  detail::current_context = context;
}
TraceScope::~TraceScope() { detail::current_context = previous_; }

std::optional<TraceContext> current_trace_context() { return detail::current_context; }

}  // namespace strata
