#include "network_faults.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

#include <fmt/format.h>

extern char** environ;

namespace strata::chaos {
namespace {

using namespace std::chrono_literals;

// A port nothing listens on now (the kernel's pick for port 0).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

bool listening(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return up;
}

}  // namespace

std::vector<NetworkFault> network_schedule(std::uint64_t seed) {
  std::mt19937_64 draw(seed ^ 0x6e6574776f726bULL);
  auto between = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(draw); };
  std::vector<NetworkFault> schedule(static_cast<std::size_t>(between(1, 4)));
  for (auto& fault : schedule) {
    fault.kind = static_cast<NetworkFault::Kind>(between(0, 3));
    fault.after_ms = between(50, 400);
    fault.hold_ms = between(100, 800);
    fault.latency_ms = between(20, 150);
  }
  return schedule;
}

std::string describe(const std::vector<NetworkFault>& schedule) {
  if (schedule.empty()) return "none";
  std::string out;
  for (const auto& fault : schedule) {
    if (!out.empty()) out += ", ";
    switch (fault.kind) {
      case NetworkFault::Kind::latency: out += fmt::format("latency {} ms", fault.latency_ms); break;
      case NetworkFault::Kind::reset: out += "resets"; break;
      case NetworkFault::Kind::silence: out += "silence"; break;
      case NetworkFault::Kind::cut: out += "cut"; break;
    }
    out += fmt::format(" for {} ms", fault.hold_ms);
  }
  return out;
}

NetworkFaults::NetworkFaults(const std::string& server, int upstream) : api_port_(free_port()) {
  std::vector<std::string> args{server, "-host", "127.0.0.1", "-port", std::to_string(api_port_)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::setenv("LOG_LEVEL", "error", 1);  // its per-connection lines would drown the round's output
  if (::posix_spawn(&pid_, server.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
    pid_ = -1;
    error_ = "cannot start toxiproxy (" + server + "; built by ctest's toxiproxy_build fixture)";
    return;
  }
  for (int waited = 0; !listening(api_port_); waited += 20) {
    if (waited > 10'000) {
      error_ = "toxiproxy did not listen within 10 s";
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
  proxy_port_ = free_port();
  if (!api("POST", "/proxies",
           fmt::format(
               R"({{"name":"storage","listen":"127.0.0.1:{}","upstream":"127.0.0.1:{}","enabled":true}})",
               proxy_port_, upstream)))
    error_ = "toxiproxy refused the proxy";
}

NetworkFaults::~NetworkFaults() {
  (void)lift();
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool NetworkFaults::api(const std::string& method, const std::string& path, const std::string& body) {
  auto command = fmt::format("curl -sS --fail --max-time 10 -X {} http://127.0.0.1:{}{}{} >/dev/null 2>&1",
                             method, api_port_, path, body.empty() ? "" : " -d '" + body + "'");
  return std::system(command.c_str()) == 0;
}

void NetworkFaults::apply(const NetworkFault& fault, bool on) {
  const std::string toxics = "/proxies/storage/toxics";
  auto toxic = [&](const char* type, const std::string& attributes) {
    if (on)
      return api("POST", toxics,
                 fmt::format(
                     R"({{"name":"fault","type":"{}","stream":"downstream","toxicity":1.0,"attributes":{}}})",
                     type, attributes));
    return api("DELETE", toxics + "/fault", "");
  };
  bool done = true;
  switch (fault.kind) {
    case NetworkFault::Kind::latency:
      done = toxic("latency", fmt::format(R"({{"latency":{}}})", fault.latency_ms));
      break;
    case NetworkFault::Kind::reset: done = toxic("reset_peer", R"({"timeout":0})"); break;
    case NetworkFault::Kind::silence: done = toxic("timeout", R"({"timeout":0})"); break;
    case NetworkFault::Kind::cut:
      done = api("POST", "/proxies/storage", on ? R"({"enabled":false})" : R"({"enabled":true})");
      break;
  }
  if (!done && error_.empty())
    error_ = "toxiproxy refused to " + std::string(on ? "apply" : "lift") + " a fault";
}

void NetworkFaults::play(std::vector<NetworkFault> schedule) {
  stop_ = false;
  player_ = std::thread([this, schedule = std::move(schedule)] {
    // Sleeps in short steps so that the round never waits on the schedule.
    auto wait = [&](int ms) {
      for (int waited = 0; waited < ms && !stop_; waited += 5) std::this_thread::sleep_for(5ms);
      return !stop_;
    };
    for (const auto& fault : schedule) {
      if (!wait(fault.after_ms)) return;
      apply(fault, true);
      wait(fault.hold_ms);
      apply(fault, false);
    }
  });
}

std::string NetworkFaults::lift() {
  stop_ = true;
  if (player_.joinable()) player_.join();
  return error_;
}

}  // namespace strata::chaos
