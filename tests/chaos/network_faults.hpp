#pragma once
// Network faults for --network rounds: a toxiproxy server of the round's own
// (built by the toxiproxy_build fixture) in front of the PostgreSQL test
// server, and a seeded schedule played on the storage's connections while
// the clients run: added latency, connections reset, silence (a server that
// stops answering) and a cut (every connection closed, new ones refused).

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace strata::chaos {

struct NetworkFault {
  enum class Kind { latency, reset, silence, cut } kind = Kind::latency;
  int after_ms = 0;  ///< since the previous fault was lifted
  int hold_ms = 0;   ///< how long it lasts
  int latency_ms = 0;
};

/// The schedule of round `seed`: one to four faults.
std::vector<NetworkFault> network_schedule(std::uint64_t seed);

/// "latency 80 ms for 300 ms, cut for 450 ms" (or "none").
std::string describe(const std::vector<NetworkFault>& schedule);

class NetworkFaults {
 public:
  /// Starts toxiproxy (`server`, the built binary) with a proxy to
  /// 127.0.0.1:`upstream`; error() says why when it could not.
  NetworkFaults(const std::string& server, int upstream);
  ~NetworkFaults();
  NetworkFaults(const NetworkFaults&) = delete;
  NetworkFaults& operator=(const NetworkFaults&) = delete;

  const std::string& error() const { return error_; }
  /// Where the storage connects instead of the server.
  int port() const { return proxy_port_; }

  /// Plays `schedule` from a thread of its own.
  void play(std::vector<NetworkFault> schedule);
  /// Ends the schedule and lifts whatever fault it was holding; "" or the
  /// first toxiproxy API call that failed.
  std::string lift();

 private:
  bool api(const std::string& method, const std::string& path, const std::string& body);
  void apply(const NetworkFault& fault, bool on);

  std::string error_;
  int api_port_ = 0, proxy_port_ = 0;
  pid_t pid_ = -1;
  std::atomic<bool> stop_{false};
  std::thread player_;
};

}  // namespace strata::chaos
