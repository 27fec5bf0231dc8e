// The subscription example in core/README.md ("Following an inbox"),
// compiled and run: the README's block is this file's code between
// `guide:begin` and `guide:end` (tools/check-doc-snippets.sh checks it).

#include <atomic>
#include <mutex>
#include <thread>

#include "strata/services.hpp"
#include "test_host.hpp"

namespace {

using namespace strata;

// What the application shows. The subscription's callback runs on a
// delivery thread long after follow() returns, so everything it touches
// lives as long as the subscription: here, members of the screen.
struct Screen {
  std::mutex mutex;
  std::vector<std::string> shown;
  std::string saved;
  int reloads = 0;

  void reload_inbox() {
    std::lock_guard lock(mutex);
    ++reloads;
  }
  void show(const MessageEntry& e) {
    std::lock_guard lock(mutex);
    shown.push_back(e.text ? *e.text : "[refused]");
  }
  void save(const std::string& cursor) {
    std::lock_guard lock(mutex);
    saved = cursor;
  }

  int follow(Services& s, const sdk::Uuid& bob_id, const InboxCursor& saved_cursor,
             std::unique_ptr<InboxSubscription>& kept) {
    // guide:begin
    auto sub = s.messages().subscribe(bob_id, saved_cursor, [&](const strata::InboxUpdate& u) {
      if (u.gap) reload_inbox();          // messages after the cursor are gone: re-read, then go on
      for (const auto& e : u.entries) show(e);
      save(u.next.str());                 // resume here after a restart
    }, strata::Origin{});
    // guide:end
    if (!sub) return 1;
    kept = std::move(*sub);
    return 0;
  }
};

}  // namespace

TEST_CASE("embedding guide: the subscription in core/README.md runs as written", "[services][guide]") {
  auto host = test::open_host("[storage]\nplugin = \"memory\"\n[audit]\nplugin = \"memory\"\n"
                              "[cipher]\nplugin = \"aes_gcm\"\nkey = \"" +
                              test::test_key_hex + "\"\n[users]\nscrypt_log2_n = 10\n");
  auto services = Services::open(*host);
  REQUIRE(services);
  Services& s = **services;
  auto alice = s.users().register_user("alice", "alice@example.org", "correct horse battery", Origin{});
  auto bob = s.users().register_user("bob", "bob@example.org", "bob's long password", Origin{});
  REQUIRE((alice && bob));
  REQUIRE(s.messages().send(Outgoing{alice->id, bob->id, "stored before", std::nullopt}, Origin{}));
  Screen screen;
  std::unique_ptr<InboxSubscription> subscription;
  REQUIRE(screen.follow(s, bob->id, InboxCursor{}, subscription) == 0);
  REQUIRE(s.messages().send(Outgoing{alice->id, bob->id, "sent after", std::nullopt}, Origin{}));
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(screen.mutex);
      if (screen.shown.size() == 2) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  subscription.reset();
  CHECK(screen.shown == std::vector<std::string>{"stored before", "sent after"});
  CHECK(screen.saved.ends_with(":2"));
  CHECK(screen.reloads == 0);
}
