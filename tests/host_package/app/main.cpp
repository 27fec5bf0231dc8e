// An application embedding the installed Strata: opens a config, registers
// two users, sends and reads a message. Built outside the tree by
// consumer_test.sh, once with find_package(Strata) and once with pkg-config.
//
// Usage: app embedded|memory

#include <cstdio>
#include <cstring>
#include <strata/host.hpp>
#include <strata/services.hpp>

int main(int argc, char** argv) {
  using namespace strata;
  if (argc != 2) return 2;
  HostOptions options;
  sdk::Result<std::unique_ptr<Host>> host =
      std::strcmp(argv[1], "embedded") == 0
          ? Host::open_embedded(options)
          : Host::open_string("[storage]\nplugin = \"memory\"\n[cache.default]\nplugin = \"memory\"\n"
                              "[audit]\nplugin = \"memory\"\n[cipher]\nplugin = \"aes_gcm\"\nkey = \"" +
                                  std::string(64, 'a') + "\"\n",
                              options);
  if (!host) {
    std::fprintf(stderr, "open: %s\n", host.error().describe().c_str());
    return 1;
  }
  auto services = Services::open(**host);
  if (!services) {
    std::fprintf(stderr, "services: %s\n", services.error().describe().c_str());
    return 1;
  }
  auto& s = **services;
  auto alice = s.users().register_user("alice", "alice@example.org", "alice's long password", Origin{});
  auto bob = s.users().register_user("bob", "bob@example.org", "bob's long password", Origin{});
  if (!alice || !bob) {
    std::fprintf(stderr, "register: %s\n", (alice ? bob.error() : alice.error()).describe().c_str());
    return 1;
  }
  auto sent = s.messages().send({alice->id, bob->id, "hello from an embedding application", std::nullopt}, Origin{});
  if (!sent) {
    std::fprintf(stderr, "send: %s\n", sent.error().describe().c_str());
    return 1;
  }
  auto read = s.messages().read(sent->id, bob->id, Origin{});
  if (!read || read->text != "hello from an embedding application") {
    std::fprintf(stderr, "read: %s\n", read ? "wrong text" : read.error().describe().c_str());
    return 1;
  }
  std::printf("%s: bob read \"%s\" (Strata %s)\n", argv[1], read->text.c_str(), STRATA_VERSION);
  return 0;
}
