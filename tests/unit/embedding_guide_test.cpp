// The embedding guide in core/README.md ("A tour of the services"), compiled
// and run: the README's code block between `guide:begin` and `guide:end` is
// this file's, line for line (tools/check-doc-snippets.sh checks it). On the
// memory stubs and AES-256-GCM, so it needs no server.

#include <filesystem>
#include <iostream>

#include "strata/services.hpp"
#include "test_host.hpp"

namespace {

using namespace strata;

int tour(Host& host, const std::filesystem::path& backups) {
  // guide:begin
  // 1. The schema first (a no-op when it is current); open() refuses an older one.
  if (auto schema = Services::migrate(host); !schema) return std::cerr << schema.error().describe() << "\n", 1;
  auto opened = Services::open(host);
  if (!opened) return std::cerr << opened.error().describe() << "\n", 1;
  Services& s = **opened;
  const Origin from_client{"203.0.113.7"};  // the client's address, in every audit event

  // 2. Users. register_user stores the user only: give them a key pair with keys().rotate.
  auto alice = s.users().register_user("alice", "alice@example.org", "correct horse battery", from_client);
  auto bob = s.users().register_user("bob", "bob@example.org", "bob's long password", from_client);
  if (!alice || !bob) return 1;
  auto alice_key = s.keys().rotate(alice->id, from_client);  // the first call creates, later calls rotate
  if (!alice_key) return 1;

  // 3. Sessions: the token is returned once; the cache keeps only its hash.
  auto login = s.users().authenticate("alice", "correct horse battery", from_client);
  auto session = s.sessions().create(login->id, from_client);
  if (!session || !s.sessions().get(session->token)) return 1;

  // 4. Sending: by ids, nothing looked up first; send_async returns at once.
  auto sent = s.messages().send(Outgoing{alice->id, bob->id, "hello bob", std::chrono::hours(24)}, from_client);
  if (!sent) return std::cerr << sent.error().describe() << "\n", 1;
  auto later = s.messages().send_async(Outgoing{alice->id, bob->id, "and again", std::nullopt}, from_client);
  if (!later.get()) return 1;  // durable once the future is ready

  // 5. Reading: pages newest first; pass `next` back for the following page.
  sdk::PageRequest page{50, std::nullopt};
  for (;;) {
    auto inbox = s.messages().inbox(bob->id, page, from_client);
    if (!inbox) return 1;
    for (const auto& entry : inbox->items)
      if (entry.text) std::cout << *entry.text << "\n";  // or entry.text.error(): why it cannot be opened
    if (!inbox->next) break;
    page.after = inbox->next;
  }

  // 6. Keys: keys().rotate is a user's key pair. The cipher's own key
  //    rotation is configuration (a new primary key in [cipher]); then
  //    rewrap re-seals what the old key sealed, resumably.
  if (!s.messages().rewrap(500, {}, from_client) || !s.keys().rewrap(500, {}, from_client)) return 1;

  // 7. Backup, and checking one without restoring it.
  auto backup = s.backup(BackupOptions{backups, false}, from_client);
  if (!backup) return std::cerr << backup.error().describe() << "\n", 1;
  auto verified = verify_backup(backup->dir, host.cipher().get());
  if (!verified || !verified->authenticated) return 1;

  // 8. Sessions end: one, or every session of a user.
  if (!s.sessions().revoke_all(alice->id, from_client)) return 1;
  // guide:end
  return 0;
}

}  // namespace

TEST_CASE("embedding guide: the tour in core/README.md runs as written", "[services][guide]") {
  auto dir = std::filesystem::temp_directory_path() / ("strata-guide-" + sdk::Uuid::generate().str());
  std::filesystem::create_directories(dir);
  auto host = test::open_host("[storage]\nplugin = \"memory\"\n[cache.default]\nplugin = \"memory\"\n"
                              "[cache.session]\nplugin = \"memory\"\n[audit]\nplugin = \"memory\"\n"
                              "[cipher]\nplugin = \"aes_gcm\"\nkey = \"" +
                              test::test_key_hex + "\"\n[users]\nscrypt_log2_n = 10\n");
  CHECK(tour(*host, dir) == 0);
  std::filesystem::remove_all(dir);
}
