// The process the crash test kills: opens the services on a config file (its
// environment supplies the variables the config reads) and sends messages
// from 16 threads until it is killed. After each send returns, the message
// id goes to the acknowledgement file in one write(2) on an O_APPEND
// descriptor, so the file holds exactly what was acknowledged (a line cut
// by the kill has no newline and counts for nothing).
//
//   crash_sender <config.toml> <acknowledged.txt> <sender uuid> <recipient uuid>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <thread>
#include <vector>

#include "strata/services.hpp"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: crash_sender <config.toml> <acknowledged.txt> <sender uuid> <recipient uuid>\n");
    return 2;
  }
  auto host = strata::Host::open_file(argv[1]);
  if (!host) {
    std::fprintf(stderr, "crash_sender: %s\n", host.error().describe().c_str());
    return 1;
  }
  auto services = strata::Services::open(**host, strata::ServicesOptions{false});
  auto from = strata::sdk::Uuid::parse(argv[3]);
  auto to = strata::sdk::Uuid::parse(argv[4]);
  int acknowledged = ::open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (!services || !from || !to || acknowledged < 0) {
    std::fprintf(stderr, "crash_sender: cannot start\n");
    return 1;
  }
  std::vector<std::jthread> senders;
  for (int t = 0; t < 16; ++t)
    senders.emplace_back([&] {
      for (;;) {
        auto m = (*services)->messages().send(strata::Outgoing{*from, *to, "sent before the crash", std::nullopt},
                                              strata::Origin{"192.0.2.99"});
        if (!m) continue;
        std::string line = m->id.str() + "\n";
        if (::write(acknowledged, line.data(), line.size()) != static_cast<ssize_t>(line.size())) std::abort();
      }
    });
}
