// Starting and finishing spans; ids from a per-thread generator.

#include "tracer.hpp"

#include <random>

#include "otlp_exporter.hpp"
#include "trace_stack.hpp"

namespace strata {
namespace {

std::mt19937_64& generator() {
  thread_local std::mt19937_64 g{std::random_device{}()};
  return g;
}

// Random bytes, never all zeros (an all-zero id is invalid).
template <std::size_t N>
std::array<std::uint8_t, N> random_id() {
  std::array<std::uint8_t, N> id{};
  do {
    for (std::size_t i = 0; i < N; i += 8) {
      auto word = generator()();
      for (std::size_t j = 0; j < 8 && i + j < N; ++j) id[i + j] = static_cast<std::uint8_t>(word >> (8 * j));
    }
  } while (id == std::array<std::uint8_t, N>{});
  return id;
}

std::int64_t unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Tracer::Span::Span(Span&& other) noexcept
    : tracer_(std::exchange(other.tracer_, nullptr)), record_(std::move(other.record_)),
      restores_(std::exchange(other.restores_, false)), previous_(std::move(other.previous_)) {}

Tracer::Span::~Span() { end(); }

void Tracer::Span::attribute(std::string key, std::string value) {
  if (tracer_) record_.attributes.emplace_back(std::move(key), std::move(value));
}

void Tracer::Span::end(std::optional<std::string> error_type) {
  if (restores_) {
    detail::current_context = previous_;
    restores_ = false;
  }
  if (!tracer_) return;
  record_.end_unix_ns = unix_ns();
  record_.error_type = std::move(error_type);
  std::exchange(tracer_, nullptr)->finish(std::move(record_));
}

sdk::Result<std::shared_ptr<Tracer>> Tracer::open(const TracingSettings& settings, SpanCallback callback,
                                                  std::shared_ptr<Metrics> metrics) {
  std::unique_ptr<OtlpExporter> exporter;
  if (settings.otlp_endpoint) {
    auto opened = OtlpExporter::open(settings, std::move(metrics));
    if (!opened) return sdk::fail(opened.error());
    exporter = std::move(*opened);
  }
  return std::shared_ptr<Tracer>(new Tracer(settings, std::move(callback), std::move(exporter)));
}

Tracer::Tracer(TracingSettings settings, SpanCallback callback, std::unique_ptr<OtlpExporter> exporter)
    : settings_(std::move(settings)), callback_(std::move(callback)), exporter_(std::move(exporter)) {}

Tracer::~Tracer() = default;

Tracer::Span Tracer::start(std::string name, SpanRecord::Kind kind, const std::optional<TraceContext>& parent,
                           bool make_current) {
  Span span;
  std::optional<TraceContext> from = parent ? parent : detail::current_context;
  bool sampled = from ? from->sampled
                      : settings_.sample_ratio >= 1.0 ||
                            std::uniform_real_distribution<double>(0.0, 1.0)(generator()) < settings_.sample_ratio;
  TraceContext context;
  context.trace_id = from ? from->trace_id : random_id<16>();
  context.span_id = random_id<8>();
  context.sampled = sampled;
  if (make_current) {
    // Even unsampled, the context is passed on: what this call does stays unsampled too.
    span.previous_ = detail::current_context;
    span.restores_ = true;
    detail::current_context = context;
  }
  if (!sampled) return span;
  span.tracer_ = this;
  span.record_.context = context;
  if (from) span.record_.parent_span_id = from->span_id;
  span.record_.name = std::move(name);
  span.record_.kind = kind;
  span.record_.start_unix_ns = unix_ns();
  return span;
}

void Tracer::finish(SpanRecord record) {
  if (callback_) {
    try {
      callback_(record);
    } catch (...) {  // the application's callback never fails the call it traced
    }
  }
  if (exporter_) exporter_->submit(std::move(record));
}

void Tracer::flush() {
  if (exporter_) exporter_->flush();
}

}  // namespace strata
