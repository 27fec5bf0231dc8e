// `strata demo`: the whole main job on whatever config is open (by default
// the embedded one): users, keys, sessions, messages, expiry, tamper
// refusal, the audit trail and metrics. Names get a random suffix so that
// repeated runs on one data directory do not collide.

#include <fmt/core.h>

#include <cryptopp/osrng.h>

#include <thread>

#include "command_registry.hpp"
#include "output.hpp"
#include "service_commands.hpp"
#include "strata/services.hpp"
#include "strata/services/audit_ledger.hpp"

namespace strata::cli {
namespace {

std::string random_hex(std::size_t bytes) {
  sdk::Bytes b(bytes);
  CryptoPP::AutoSeededRandomPool().GenerateBlock(b.data(), b.size());
  return sdk::to_hex(b);
}

void step(int n, std::string_view title) { fmt::print("\n[{}] {}\n", n, title); }

// Turns a failed step into the demo's exit, naming the step.
struct DemoFailure {
  std::string what;
};
template <class T>
T must(sdk::Result<T> r, std::string_view what) {
  if (!r) throw DemoFailure{std::string(what) + ": " + r.error().describe()};
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

void print_inbox(Services& s, const sdk::User& user) {
  auto page = must(s.messages().inbox(user.id, sdk::PageRequest{20, std::nullopt}, Origin{}), "inbox");
  fmt::print("    inbox of {}: {} message{}\n", user.username, page.items.size(), page.items.size() == 1 ? "" : "s");
  for (const auto& e : page.items) {
    auto from = s.users().get(e.envelope.sender_id);
    fmt::print("      {}  from {:<12}  {}\n", e.envelope.created_at.iso8601(), from ? from->username : "?",
               e.text ? "\"" + printable(*e.text) + "\"" : "[refused: " + e.text.error().message + "]");
  }
}

int run(const Host& host) {
  auto opened = Services::open(host, ServicesOptions{false});
  if (!opened) return report_error(opened.error());
  Services& s = **opened;
  const Origin here{"demo"};

  fmt::print("Strata demo — plugins:");
  for (const auto& i : host.instances())
    fmt::print(" {}{}={}", sdk::to_string(i.role), i.role == sdk::Role::cache ? "." + i.instance : "", i.plugin);
  fmt::print("\n");

  step(1, "register two users (scrypt password hashes; passwords are random and never printed)");
  std::string suffix = random_hex(3);
  std::string alice_pw = random_hex(16), bob_pw = random_hex(16);
  auto alice = must(s.users().register_user("alice-" + suffix, "alice-" + suffix + "@example.org", alice_pw, here),
                    "register alice");
  auto bob = must(s.users().register_user("bob-" + suffix, "bob-" + suffix + "@example.org", bob_pw, here),
                  "register bob");
  fmt::print("    {}  {}\n    {}  {}\n", alice.username, alice.id.str(), bob.username, bob.id.str());

  step(2, "create their X25519 key pairs (private halves wrapped by the cipher before storage)");
  for (const auto* u : {&alice, &bob}) {
    auto key = must(s.keys().rotate(u->id, here), "create key");
    fmt::print("    {}: key {}  public {}\n", u->username, key.id.str(), sdk::to_hex(key.public_key));
  }

  step(3, "log in: a session for alice; a wrong password for bob is refused and audited");
  must(s.users().authenticate(alice.username, alice_pw, here), "alice logs in");
  auto session = must(s.sessions().create(alice.id, here), "alice's session");
  fmt::print("    alice's session token: {}… (256 random bits; the cache holds only its SHA-256)\n",
             session.token.substr(0, 8));
  auto wrong = s.users().authenticate(bob.username, "not-bob's-password", here);
  fmt::print("    bob with a wrong password: {}\n", wrong ? "ACCEPTED (bug!)" : wrong.error().message);
  if (wrong) return 1;

  step(4, "exchange messages (AES-256-GCM, bound to message id, sender and recipient)");
  auto hello = must(s.messages().send({alice.id, bob.id, "Hello Bob, this is sealed at rest.", std::nullopt}, here),
                    "send");
  must(s.messages().send({bob.id, alice.id, "Hi Alice! Got it.", std::nullopt}, here), "send");
  auto fleeting = must(s.messages().send({alice.id, bob.id, "This one expires in one second.",
                                          std::chrono::seconds(1)}, here), "send");
  must(s.messages().send({alice.id, bob.id, "Lunch at noon?", std::nullopt}, here), "send");
  fmt::print("    4 messages sent; stored ciphertext of the first: {}… (key {})\n",
             sdk::to_hex(sdk::BytesView(hello.encrypted_content).first(12)), hello.key_id);

  step(5, "bob's decrypted inbox");
  print_inbox(s, bob);

  step(6, "let one message expire, then purge it");
  auto deadline = *fleeting.expires_at;
  while (host.clock()->now() <= deadline) {
    fmt::print("\r    waiting for {} to expire…", fleeting.id.str());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto purged = must(s.maintenance().purge_expired(here), "purge");
  fmt::print("\r    purged {} expired message{} (this data directory's earlier runs included)\n", purged,
             purged == 1 ? "" : "s");
  print_inbox(s, bob);

  step(7, "tampering is refused, never decrypted to garbage");
  auto storage = host.storage();
  sdk::Bytes flipped = hello.encrypted_content;
  flipped[0] ^= 0x01;
  must(storage->replace_message_content(hello.id, hello.key_id, flipped, hello.iv, hello.key_id), "flip a byte");
  auto tampered = s.messages().read(hello.id, bob.id, here);
  fmt::print("    one flipped bit in the stored ciphertext: {}\n", tampered ? "OPENED (bug!)" : tampered.error().describe());
  sdk::Message moved = hello;
  moved.id = sdk::Uuid::generate();  // the same sealed bytes in another row
  must(storage->insert_message(moved), "copy a row");
  auto swapped = s.messages().read(moved.id, bob.id, here);
  fmt::print("    a ciphertext copied into another row:   {}\n", swapped ? "OPENED (bug!)" : swapped.error().describe());
  if (tampered || swapped) return 1;

  step(8, "revoke alice's session");
  must(s.sessions().revoke(session.token, here), "revoke");
  auto gone = s.sessions().get(session.token);
  fmt::print("    using the revoked token: {}\n", gone ? "ACCEPTED (bug!)" : gone.error().message);
  if (gone) return 1;

  step(9, "the audit trail of this run");
  s.audit().flush();
  if (auto audit = host.audit()) {
    sdk::AuditQuery query;
    query.from = alice.created_at;
    query.limit = 40;
    auto events = must(audit->query(query), "audit query");
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      fmt::print("    {}  {:<7}  {:<20}  {}  {}\n", it->timestamp.iso8601(), sdk::to_string(it->status), it->action,
                 it->resource, printable(it->metadata));
    // Every event the sink stored is sealed into the ledger: the whole trail checks out (`strata audit verify`).
    if (const auto& ledger = s.audit_ledger()) {
      auto report = must(ledger->verify(*audit), "audit verify");
      fmt::print("    ledger {}: {} events sealed, none edited, dropped or inserted{}\n", report.origin, report.leaves,
                 report.ok() ? "" : " -- NOT SO (bug!)");
      if (!report.ok()) return 1;
    }
  } else {
    fmt::print("    (no [audit] in this config)\n");
  }

  step(10, "metrics: plugin calls of this run (Prometheus text format; `strata metrics` shows all runs)");
  std::string text = host.metrics()->prometheus();
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    std::string_view line(text.data() + start, (end == std::string::npos ? text.size() : end) - start);
    if (line.starts_with("strata_plugin_calls_total") || line.starts_with("strata_audit_events_total") ||
        line.starts_with("strata_messages_purged_total"))
      fmt::print("    {}\n", line);
    start = end == std::string::npos ? text.size() : end + 1;
  }
  fmt::print("\ndemo finished: every step behaved as expected\n");
  return 0;
}

}  // namespace

int demo(const Host& host) {
  try {
    return run(host);
  } catch (const DemoFailure& failure) {
    fmt::print(stderr, "\nstrata: demo failed at {}\n", printable(failure.what));
    return 1;
  }
}

void add_demo_command(Registry& registry) {
  registry.on(registry.app().add_subcommand("demo", "Run the whole main job once, explaining each step"),
              [](const Host& host, const auto&) { return demo(host); });
}

}  // namespace strata::cli
