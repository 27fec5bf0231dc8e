#pragma once
// A toxiproxy server of the test's own (Shopify's TCP proxy for fault
// injection, built by the toxiproxy_build fixture) on free ports: proxies
// in front of the test servers, and toxics (latency, reset_peer, timeout)
// or a cut connection, driven through its HTTP API with curl.

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "backends.hpp"
#include "process.hpp"
#include "test_paths.hpp"

namespace strata::test {

class Toxiproxy {
 public:
  Toxiproxy() : api_port_(free_port()) {
    REQUIRE(std::filesystem::exists(paths::toxiproxy()));  // built by the toxiproxy_build fixture
    ::setenv("LOG_LEVEL", "error", 1);                      // its per-connection lines drown a failure's output
    pid_ = spawn({paths::toxiproxy(), "-host", "127.0.0.1", "-port", std::to_string(api_port_)});
    REQUIRE(wait_until([&] { return listening(api_port_); }));
  }
  ~Toxiproxy() { stop(pid_); }
  Toxiproxy(const Toxiproxy&) = delete;
  Toxiproxy& operator=(const Toxiproxy&) = delete;

  /// A proxy named `name` in front of 127.0.0.1:upstream; the port it listens on.
  int proxy(const std::string& name, int upstream) {
    int port = free_port();
    api("POST", "/proxies",
        R"({"name":")" + name + R"(","listen":"127.0.0.1:)" + std::to_string(port) + R"(","upstream":"127.0.0.1:)" +
            std::to_string(upstream) + R"(","enabled":true})");
    return port;
  }
  /// Adds a toxic (`attributes` a JSON object) on the answers the client gets.
  void toxic(const std::string& proxy, const std::string& name, const std::string& type,
             const std::string& attributes) {
    api("POST", "/proxies/" + proxy + "/toxics",
        R"({"name":")" + name + R"(","type":")" + type + R"(","stream":"downstream","toxicity":1.0,"attributes":)" +
            attributes + "}");
  }
  void remove(const std::string& proxy, const std::string& toxic) {
    api("DELETE", "/proxies/" + proxy + "/toxics/" + toxic, "");
  }
  /// Disabled: the proxy closes every connection and refuses new ones.
  void enable(const std::string& proxy, bool enabled) {
    api("POST", "/proxies/" + proxy, std::string(R"({"enabled":)") + (enabled ? "true" : "false") + "}");
  }

 private:
  void api(const std::string& method, const std::string& path, const std::string& body) {
    std::string command = "curl -sS --fail --max-time 10 -X " + method + " http://127.0.0.1:" +
                          std::to_string(api_port_) + path + (body.empty() ? "" : " -d '" + body + "'") + " 2>&1";
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe);
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
    INFO(command << ": " << out);
    REQUIRE(::pclose(pipe) == 0);
  }

  int api_port_;
  pid_t pid_;
};

}  // namespace strata::test
