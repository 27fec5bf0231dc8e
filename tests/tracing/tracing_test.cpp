// Traces: W3C traceparent in and out, services and plugin spans with their
// parent/child links and the OpenTelemetry attributes, the application's span
// callback, and the OTLP exporter against a real OpenTelemetry Collector
// (tests/tracing/otelcol, built by the otelcol_build fixture) — and against
// a collector that is down or never answers, which must not slow a call.

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "backends.hpp"
#include "process.hpp"
#include "strata/services.hpp"
#include "strata/tracing.hpp"
#include "test_host.hpp"
#include "test_paths.hpp"

namespace strata::test {
namespace {

const std::string incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

std::string services_toml(const std::filesystem::path& dir, const std::string& extra = "") {
  return "[storage]\nplugin = \"sqlite\"\npath = \"" + (dir / "strata.db").string() +
         "\"\n[audit]\nplugin = \"memory\"\n[cipher]\nplugin = \"aes_gcm\"\nkey = \"" + test_key_hex +
         "\"\n[users]\nscrypt_log2_n = 10\n" + extra;
}

struct TempDir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("strata-tracing-" + sdk::Uuid::generate().str());
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// Spans the callback saw, by name (the last of each name wins).
struct SeenSpans {
  std::mutex mutex;
  std::vector<SpanRecord> all;
  SpanCallback callback() {
    return [this](const SpanRecord& span) {
      std::lock_guard lock(mutex);
      all.push_back(span);
    };
  }
  std::vector<SpanRecord> named(const std::string& name) {
    std::lock_guard lock(mutex);
    std::vector<SpanRecord> out;
    for (const auto& s : all)
      if (s.name == name) out.push_back(s);
    return out;
  }
};

std::string attribute(const SpanRecord& span, const std::string& key) {
  for (const auto& [k, v] : span.attributes)
    if (k == key) return v;
  return {};
}

// Services on SQLite whose spans go to `seen` (HostOptions::on_span).
struct Traced {
  TempDir dir;
  SeenSpans seen;
  std::unique_ptr<Host> host;
  std::unique_ptr<Services> services;
  Traced() {
    HostOptions options;
    options.on_span = seen.callback();
    host = open_host(services_toml(dir.path), options);
    services = std::move(Services::open(*host, ServicesOptions{false}).value());
  }
};

std::uint64_t counter(Host& host, const std::string& series) {
  auto text = "\n" + host.metrics()->prometheus();
  auto at = text.find("\n" + series + " ");  // a sample line, not its # HELP
  return at == std::string::npos ? 0 : std::stoull(text.substr(at + series.size() + 2));
}

}  // namespace

TEST_CASE("tracing: traceparent parsed and printed as the W3C trace context says", "[tracing]") {
  auto context = TraceContext::parse(incoming);
  REQUIRE(context);
  CHECK(context->trace_id_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(context->span_id_hex() == "00f067aa0ba902b7");
  CHECK(context->sampled);
  CHECK(context->traceparent() == incoming);
  CHECK_FALSE(TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")->sampled);
  // A later version may append fields; version 00 may not.
  CHECK(TraceContext::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
  for (const char* bad : {"", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
                          "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
                          "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g"}) {
    INFO(bad);
    CHECK_FALSE(TraceContext::parse(bad));
  }
}

TEST_CASE("tracing: a services call continues the caller's trace, its plugin calls are its children",
          "[tracing]") {
  Traced traced;
  auto& [dir, seen, host, services] = traced;
  auto alice = services->users().register_user("alice", "alice@example.org", "alice-password",
                                               Origin{"10.0.0.1", incoming});
  REQUIRE(alice);

  auto registered = seen.named("users.register");
  REQUIRE(registered.size() == 1);
  const auto& parent = registered.front();
  CHECK(parent.context.trace_id_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");  // the caller's trace
  REQUIRE(parent.parent_span_id);
  CHECK(TraceContext{parent.context.trace_id, *parent.parent_span_id, true}.span_id_hex() == "00f067aa0ba902b7");
  CHECK(parent.kind == SpanRecord::Kind::internal);
  CHECK_FALSE(parent.error_type);
  CHECK(parent.start_unix_ns <= parent.end_unix_ns);

  // The storage call beneath it: a client span, named and labelled as the database convention says.
  auto created = seen.named("create_user " + (dir.path / "strata.db").string());
  REQUIRE(created.size() == 1);
  const auto& child = created.front();
  CHECK(child.kind == SpanRecord::Kind::client);
  CHECK(child.context.trace_id == parent.context.trace_id);
  REQUIRE(child.parent_span_id);
  CHECK(*child.parent_span_id == parent.context.span_id);
  CHECK(attribute(child, "db.system.name") == "sqlite");
  CHECK(attribute(child, "db.operation.name") == "create_user");
  CHECK(attribute(child, "strata.role") == "storage");

  // The audit event carries the services call's trace context.
  services->audit().flush();
  auto events = host->audit()->query(sdk::AuditQuery{});
  REQUIRE(events);
  bool carried = false;
  for (const auto& e : *events)
    if (e.action == "user.register")
      carried = nlohmann::json::parse(e.metadata).value("traceparent", "") ==
                "00-4bf92f3577b34da6a3ce929d0e0e4736-" + parent.context.span_id_hex() + "-01";
  CHECK(carried);

  // A failed call: the span says so, with the error code as error.type.
  REQUIRE_FALSE(services->users().authenticate("alice", "wrong-password", Origin{}));
  auto failed = seen.named("users.authenticate");
  REQUIRE(failed.size() == 1);
  CHECK(failed.front().error_type == std::optional<std::string>("auth_failed"));
  CHECK_FALSE(failed.front().parent_span_id);  // no traceparent, no current context: a trace of its own
}

TEST_CASE("tracing: an unsampled caller's trace is continued but not recorded", "[tracing]") {
  Traced traced;
  auto& [dir, seen, host, services] = traced;
  REQUIRE(services->users().register_user("bob", "bob@example.org", "bob-password",
                                          Origin{"local", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}));
  CHECK(seen.named("users.register").empty());
  std::lock_guard lock(seen.mutex);
  for (const auto& s : seen.all) CHECK(s.context.trace_id_hex() != "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST_CASE("tracing: spans reach a real OpenTelemetry Collector over OTLP/HTTP", "[tracing][collector]") {
  const auto collector = paths::otel_collector();
  REQUIRE(std::filesystem::exists(collector));  // built by the otelcol_build fixture
  TempDir dir;
  const int port = free_port();
  const auto output = dir.path / "spans.jsonl";
  {
    std::ofstream config(dir.path / "collector.yaml");
    config << "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:" << port
           << "\nexporters:\n  file:\n    path: " << output.string()
           << "\n    flush_interval: 100ms\nservice:\n  telemetry:\n    logs:\n      level: warn\n    metrics:\n      level: none\n"
              "  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [file]\n";
  }
  Child collector_process({collector, "--config", (dir.path / "collector.yaml").string()});
  bool exited = false;  // a collector that refuses its config exits at once: say so, not after 30 s
  REQUIRE(wait_until([&] { return listening(port) || (exited = collector_process.exited()); },
                     std::chrono::seconds(30)));
  REQUIRE_FALSE(exited);

  std::string trace_id;
  {
    auto host = open_host(services_toml(dir.path, "[tracing]\notlp_endpoint = \"http://127.0.0.1:" +
                                                      std::to_string(port) +
                                                      "/v1/traces\"\nflush_interval_ms = 100\n"));
    auto services = std::move(Services::open(*host, ServicesOptions{false}).value());
    auto alice = services->users().register_user("alice", "alice@example.org", "alice-password",
                                                 Origin{"10.0.0.1", incoming});
    REQUIRE(alice);
    REQUIRE_FALSE(services->users().authenticate("alice", "wrong-password", Origin{}));
    services.reset();
    // Closing the host sends what waits; nothing was dropped.
    host.reset();
  }
  // The file exporter writes each batch as one line of OTLP JSON.
  std::map<std::string, nlohmann::json> spans;  // by name
  REQUIRE(wait_until(
      [&] {
        spans.clear();
        std::ifstream in(output);
        for (std::string line; std::getline(in, line);) {
          // The exporter may be writing the last line while it is read: a part of one is not JSON yet.
          auto batch = nlohmann::json::parse(line, nullptr, false);
          if (batch.is_discarded()) continue;
          for (const auto& resource : batch["resourceSpans"]) {
            CHECK(resource["resource"]["attributes"][0]["value"]["stringValue"] == "strata");
            for (const auto& scope : resource["scopeSpans"])
              for (const auto& span : scope["spans"]) spans[span["name"].get<std::string>()] = span;
          }
        }
        return spans.count("users.register") && spans.count("users.authenticate");
      },
      std::chrono::seconds(20)));
  collector_process.stop_now();

  const auto& registered = spans["users.register"];
  CHECK(registered["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(registered["parentSpanId"] == "00f067aa0ba902b7");
  const auto created = spans["create_user " + (dir.path / "strata.db").string()];
  REQUIRE(created.is_object());
  CHECK(created["parentSpanId"] == registered["spanId"]);
  CHECK(created["kind"] == 3);  // SPAN_KIND_CLIENT
  std::map<std::string, nlohmann::json> attributes;
  for (const auto& a : created["attributes"]) attributes[a["key"]] = a["value"];
  CHECK(attributes["db.system.name"]["stringValue"] == "sqlite");
  CHECK(attributes["db.operation.name"]["stringValue"] == "create_user");
  const auto& failed = spans["users.authenticate"];
  CHECK(failed["status"]["code"] == 2);  // STATUS_CODE_ERROR
  CHECK(failed["status"]["message"] == "auth_failed");
}

TEST_CASE("tracing: a collector that is down or never answers costs calls nothing, spans are dropped and counted",
          "[tracing][collector]") {
  TempDir dir;
  // Down: nothing listens on the port. Hung: a socket that is listening but
  // never accepts, so a request connects (the kernel's backlog) and waits.
  int hung = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(hung, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(hung, 64) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(hung, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  const int hung_port = ntohs(address.sin_port);

  for (int port : {free_port(), hung_port}) {
    INFO("collector port " << port << (port == hung_port ? " (never answers)" : " (down)"));
    auto host = open_host("[storage]\nplugin = \"memory\"\n[tracing]\notlp_endpoint = \"http://127.0.0.1:" +
                          std::to_string(port) +
                          "/v1/traces\"\nqueue_size = 8\nbatch_size = 4\nflush_interval_ms = 10\n"
                          "export_timeout_ms = 500\n");
    auto storage = host->storage();
    for (int i = 0; i < 2000; ++i) REQUIRE(storage->schema_status());  // every call returns, none waits
    // 2000 spans into a queue of 8 that drains four at a time, each export failing or waiting 500 ms.
    CHECK(counter(*host, "strata_spans_exported_total") == 0);
    CHECK(counter(*host, "strata_spans_dropped_total{reason=\"queue_full\"}") > 0);
  }
  ::close(hung);
}

TEST_CASE("tracing: off unless an endpoint or a callback asks for it", "[tracing]") {
  auto host = open_host("[storage]\nplugin = \"memory\"\n");
  CHECK_FALSE(host->tracer());
  auto refused = open_error("[storage]\nplugin = \"memory\"\n[tracing]\notlp_endpoint = \"127.0.0.1:4318\"\n");
  CHECK(refused.code == sdk::ErrorCode::invalid_argument);
  CHECK(refused.message.find("otlp_endpoint must be an http:// or https:// URL") != std::string::npos);
  auto ratio = open_error("[storage]\nplugin = \"memory\"\n[tracing]\nsample_ratio = 1.5\n");
  CHECK(ratio.message.find("sample_ratio must be between 0 and 1") != std::string::npos);
}

}  // namespace strata::test
