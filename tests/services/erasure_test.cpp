// Erasing a user (crypto-shredding, strata/services/erasure.hpp) on the
// configuration STRATA_SERVICES_CONFIG names: what was sealed for them stops
// opening everywhere, a backup taken before the erase included, and a
// destroyed key never comes back.

#include <catch2/catch.hpp>

#include <filesystem>

#include "erasure/data_keys.hpp"
#include "encoding.hpp"
#include "erasure/key_backup.hpp"
#include "service_env.hpp"
#include "strata/services/audit_ledger.hpp"
#include "strata/services/erasure.hpp"

using namespace strata;
namespace fs = std::filesystem;

namespace {

const std::string per_user_keys = "[erasure]\nper_user_keys = true\n";

sdk::Message send(test::ServiceEnv& env, const sdk::User& from, const sdk::User& to, const std::string& text) {
  auto sent = env.messages().send(Outgoing{from.id, to.id, text, std::nullopt}, Origin{});
  INFO((sent ? std::string() : sent.error().describe()));
  REQUIRE(sent);
  return *sent;
}

sdk::Result<ReadMessage> read(test::ServiceEnv& env, const sdk::Message& m, const sdk::Uuid& reader) {
  return env.messages().read(m.id, reader, Origin{});
}

sdk::ErrorCode code_of(const sdk::Result<ReadMessage>& r) {
  REQUIRE_FALSE(r);
  return r.error().code;
}

}  // namespace

TEST_CASE("erasure: a user's messages and private key are sealed under their data key", "[erasure]") {
  test::ServiceEnv env(per_user_keys);
  auto alice = env.user("alice"), bob = env.user("bob");
  auto to_alice = send(env, bob, alice, "for alice");
  auto stored = env.host().storage()->get_message(to_alice.id).value();
  auto keys = env.host().storage()->data_keys_for_user(alice.id).value();
  REQUIRE(keys.size() == 1);
  CHECK(stored.key_id == "dk:" + keys[0].id.str());
  CHECK(keys[0].wrapped.size() > 32);  // wrapped by the cipher, never the raw key
  CHECK(read(env, to_alice, alice.id).value().text == "for alice");
  CHECK(read(env, to_alice, bob.id).value().text == "for alice");
  // The key pair's private half too; after a restart the key is read from the storage again.
  auto pair = env.services().keys().rotate(alice.id, Origin{}).value();
  CHECK(DataKeys::names_data_key(detail::decode_sealed(pair.private_key_encrypted).value().key_id));
  // Another process on the same storage (nothing cached) reads the key from the storage.
  auto other = Services::open(env.host(), ServicesOptions{false});
  REQUIRE(other);
  CHECK((*other)->keys().private_key(pair).value().size() == 32);
  CHECK((*other)->messages().read(to_alice.id, alice.id, Origin{}).value().text == "for alice");
  CHECK(env.host().storage()->data_keys_for_user(alice.id).value().size() == 1);  // one key per user, reused
}

TEST_CASE("erasure: erase destroys the keys, not the rows, and says so in a receipt", "[erasure]") {
  test::ServiceEnv env(per_user_keys);
  auto alice = env.user("alice"), bob = env.user("bob"), carol = env.user("carol");
  std::vector<sdk::Message> to_alice;
  for (int i = 0; i < 25; ++i) to_alice.push_back(send(env, bob, alice, "secret " + std::to_string(i)));
  auto from_alice = send(env, alice, bob, "alice wrote this");
  auto unrelated = send(env, bob, carol, "not alice's");
  auto pair = env.services().keys().rotate(alice.id, Origin{}).value();
  auto session = env.services().sessions().create(alice.id, Origin{});
  REQUIRE(session);
  auto before = env.host().storage()->data_keys_for_user(alice.id).value();
  REQUIRE(before.size() == 1);

  auto receipt = env.services().erasure().erase(alice.id, Origin{"198.51.100.7"});
  INFO((receipt ? std::string() : receipt.error().describe()));
  REQUIRE(receipt);
  CHECK(receipt->data_keys_destroyed == std::vector<sdk::Uuid>{before[0].id});
  CHECK(receipt->key_pairs_deactivated == std::vector<sdk::Uuid>{pair.id});
  CHECK(receipt->account_deactivated);
  CHECK(receipt->problems.empty());
  CHECK_FALSE(receipt->sent_messages_erased);

  // Every row is still there; none of alice's mailbox opens, for anyone.
  for (const auto& m : to_alice) {
    CHECK(env.host().storage()->get_message(m.id));
    CHECK(code_of(read(env, m, bob.id)) == sdk::ErrorCode::key_destroyed);
  }
  // What she sent stays with its recipient ([erasure] sent_messages = "keep"); others are untouched.
  CHECK(read(env, from_alice, bob.id).value().text == "alice wrote this");
  CHECK(read(env, unrelated, carol.id).value().text == "not alice's");
  // Her account, sessions and key pair are gone from use.
  CHECK_FALSE(env.users().get(alice.id).value().is_active);
  CHECK_FALSE(env.services().sessions().get(session->token));
  CHECK_FALSE(env.services().keys().private_key(pair));
  CHECK_FALSE(env.messages().send(Outgoing{bob.id, alice.id, "more", std::nullopt}, Origin{}));
  // The storage keeps a tombstone: the old key material is refused for good.
  {
    auto again = env.host().storage()->insert_data_key(before[0]);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == sdk::ErrorCode::key_destroyed);
  }
  // Another process on the same storage (nothing cached) finds the same.
  auto other = Services::open(env.host(), ServicesOptions{false});
  REQUIRE(other);
  auto elsewhere = (*other)->messages().read(to_alice.front().id, bob.id, Origin{});
  REQUIRE_FALSE(elsewhere);
  CHECK(elsewhere.error().code == sdk::ErrorCode::key_destroyed);

  // The receipt is in the audit trail, role by role.
  auto events = env.events("user.erase");
  REQUIRE(events.size() == 1);
  auto metadata = nlohmann::json::parse(events[0].metadata);
  CHECK(metadata.at("storage").at("data_keys_destroyed") == nlohmann::json::array({before[0].id.str()}));
  CHECK(metadata.at("storage").at("account") == "deactivated");
  CHECK(metadata.at("cache").at("sessions") == "revoked");
  CHECK(metadata.at("policy").at("sent_messages") == "keep");
  // Her key is gone by then: the address of whoever erased her is pseudonymised.
  CHECK(events[0].ip == env.services().audit().pseudonym("ip", "198.51.100.7").value());

  // Erasing again destroys nothing more.
  auto twice = env.services().erasure().erase(alice.id, Origin{});
  REQUIRE(twice);
  CHECK(twice->data_keys_destroyed.empty());
}

TEST_CASE("erasure: audit events hold no personal data in clear, and an erase leaves the trail verifiable",
          "[erasure][audit]") {
  test::ServiceEnv env(per_user_keys);
  auto alice = env.user("alice");  // registered from 192.0.2.1
  REQUIRE_FALSE(env.users().authenticate("alice", "not her password", Origin{"198.51.100.7"}));
  REQUIRE_FALSE(env.users().authenticate("mallory", "a guess", Origin{"203.0.113.9"}));
  REQUIRE_FALSE(env.users().register_user("bad name\x01", "mallory@example.org", "long enough password",
                                          Origin{"203.0.113.9"}));
  env.settle_audit();
  sdk::AuditQuery everything;
  everything.limit = 10000;
  auto stored = env.host().audit()->query(everything).value();
  REQUIRE(stored.size() >= 4);
  // Nothing a person typed or came from is stored in clear, in any event.
  for (const auto& e : stored) {
    INFO(e.action << " " << e.ip << " " << e.metadata);
    for (const std::string clear : {"192.0.2.1", "198.51.100.7", "203.0.113.9", "alice@example.org", "\"alice\"",
                                    "mallory", "bad name"}) {
      CHECK(e.ip.find(clear) == std::string::npos);
      CHECK(e.metadata.find(clear) == std::string::npos);
    }
  }
  auto& audit = env.services().audit();
  auto logins = env.events("user.login");
  REQUIRE(logins.size() == 2);
  const auto& hers = logins[0].user_id ? logins[0] : logins[1];
  const auto& unknown = logins[0].user_id ? logins[1] : logins[0];
  // Hers is sealed under her data key and opens until she is erased.
  CHECK(hers.ip.starts_with("sealed:"));
  auto opened = hers;
  audit.reveal(opened);
  CHECK(opened.ip == "198.51.100.7");
  CHECK(nlohmann::json::parse(opened.metadata).at("username") == "alice");
  // An unknown name has no key to seal under: a keyed hash, the same for the same value.
  CHECK(unknown.ip == audit.pseudonym("ip", "203.0.113.9").value());
  CHECK(nlohmann::json::parse(unknown.metadata).at("username") == audit.pseudonym("username", "mallory").value());
  auto refused = env.events("user.register");
  auto failed = std::find_if(refused.begin(), refused.end(), [](auto& e) { return !e.user_id; });
  REQUIRE(failed != refused.end());
  CHECK(failed->ip == unknown.ip);
  CHECK(nlohmann::json::parse(failed->metadata).at("reason") == "invalid username");
  // A sealed value moved to another event does not open there.
  auto moved = unknown;
  moved.ip = hers.ip;
  audit.reveal(moved);
  CHECK(moved.ip.starts_with("[does not open"));

  REQUIRE(env.services().erasure().erase(alice.id, Origin{}));
  env.settle_audit();
  auto after = hers;
  audit.reveal(after);
  CHECK(after.ip == "[erased]");
  CHECK(nlohmann::json::parse(after.metadata).at("username") == "[erased]");
  // Another process (nothing cached) finds the same.
  auto other = Services::open(env.host(), ServicesOptions{false});
  REQUIRE(other);
  auto elsewhere = hers;
  (*other)->audit().reveal(elsewhere);
  CHECK(elsewhere.ip == "[erased]");
  // The trail was not touched by the erase: every event verifies against the ledger.
  auto ledger = env.services().audit_ledger();
  REQUIRE(ledger);
  auto report = ledger->verify(*env.host().audit());
  REQUIRE(report);
  CHECK(report->ok());
}

TEST_CASE("erasure: with sent_messages = erase, what the user sent goes too", "[erasure]") {
  test::ServiceEnv env(per_user_keys + "sent_messages = \"erase\"\n");
  auto alice = env.user("alice"), bob = env.user("bob"), carol = env.user("carol");
  auto from_alice = send(env, alice, bob, "alice wrote this");
  auto to_alice = send(env, bob, alice, "bob wrote this");
  auto unrelated = send(env, bob, carol, "bob to carol");
  CHECK(env.host().storage()->get_message(from_alice.id).value().key_id.find('+') != std::string::npos);
  CHECK(read(env, from_alice, bob.id).value().text == "alice wrote this");
  auto receipt = env.services().erasure().erase(alice.id, Origin{});
  REQUIRE(receipt);
  CHECK(receipt->sent_messages_erased);
  CHECK(code_of(read(env, from_alice, bob.id)) == sdk::ErrorCode::key_destroyed);
  CHECK(code_of(read(env, to_alice, bob.id)) == sdk::ErrorCode::key_destroyed);
  CHECK(read(env, unrelated, carol.id).value().text == "bob to carol");
}

TEST_CASE("erasure: refused, naming the setting, without per-user keys", "[erasure]") {
  test::ServiceEnv env;
  auto alice = env.user("alice");
  auto refused = env.services().erasure().erase(alice.id, Origin{});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == sdk::ErrorCode::invalid_argument);
  CHECK(refused.error().message.find("per_user_keys") != std::string::npos);
  CHECK(env.users().get(alice.id).value().is_active);  // nothing was done
  auto unknown = test::ServiceEnv(per_user_keys).services().erasure().erase(sdk::Uuid::generate(), Origin{});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == sdk::ErrorCode::not_found);
}

TEST_CASE("erasure: keys rewrap moves messages sealed before under users' data keys", "[erasure]") {
  test::ServiceEnv env(per_user_keys);
  auto alice = env.user("alice"), bob = env.user("bob");
  // A message stored before per_user_keys was turned on: sealed under the cipher's key.
  sdk::Message old;
  old.id = sdk::Uuid::generate();
  old.sender_id = bob.id;
  old.recipient_id = alice.id;
  old.created_at = sdk::Timestamp::from_micros(env.host().clock()->now().micros() / 1000 * 1000);
  auto sealed = env.host().cipher()->seal(sdk::as_bytes(std::string("sealed under the cipher")),
                                          Messages::associated_data(old.id, bob.id, alice.id));
  REQUIRE(sealed);
  old.encrypted_content = sealed->ciphertext;
  old.iv = sealed->iv;
  old.key_id = sealed->key_id;
  REQUIRE(env.host().storage()->insert_message(old));
  CHECK(read(env, old, alice.id).value().text == "sealed under the cipher");
  auto moved = env.messages().rewrap(10, {}, Origin{});
  INFO((moved ? std::string() : moved.error().describe()));
  REQUIRE(moved);
  CHECK(moved->total == 1);
  CHECK(moved->rewrapped == 1);
  CHECK(DataKeys::names_data_key(env.host().storage()->get_message(old.id).value().key_id));
  CHECK(read(env, old, alice.id).value().text == "sealed under the cipher");
  // A rerun finds nothing left to move.
  CHECK(env.messages().rewrap(10, {}, Origin{}).value().total == 0);
  // Erased after the move, it is gone too.
  REQUIRE(env.services().erasure().erase(alice.id, Origin{}));
  CHECK(code_of(read(env, old, bob.id)) == sdk::ErrorCode::key_destroyed);
}

TEST_CASE("erasure: a backup taken before the erase yields nothing, as verify shows", "[erasure][backup]") {
  test::ServiceEnv env(per_user_keys);
  auto alice = env.user("alice"), bob = env.user("bob");
  std::vector<sdk::Message> to_alice;
  for (int i = 0; i < 5; ++i) to_alice.push_back(send(env, bob, alice, "secret " + std::to_string(i)));
  auto to_bob = send(env, alice, bob, "for bob");
  const fs::path out = env.dir() / "backups";
  fs::create_directories(out);
  auto made = env.services().backup(BackupOptions{out, false});
  INFO((made ? std::string() : made.error().describe()));
  REQUIRE(made);
  REQUIRE(made->key_backup);
  CHECK(made->data_keys == 2);  // alice's and bob's
  // The data backup holds no key: its storage restored alone opens none of alice's messages.
  auto records = detail::read_key_backup(*made->key_backup, *env.host().cipher()).value();
  CHECK(records.size() == 2);

  auto receipt = env.services().erasure().erase(alice.id, Origin{});
  REQUIRE(receipt);
  CHECK(receipt->key_backups_scrubbed == std::vector<fs::path>{fs::absolute(*made->key_backup).lexically_normal()});
  CHECK(receipt->backed_up_keys_destroyed == 1);

  test::ServiceEnv scratch(per_user_keys);
  auto check = env.services().erasure().verify(alice.id, out, scratch.services(), Origin{});
  INFO((check ? std::string() : check.error().describe()));
  REQUIRE(check);
  CHECK(check->backup == made->dir);
  CHECK(check->messages == 5);
  CHECK(check->key_destroyed == 5);
  CHECK(check->not_erased.empty());
  CHECK(check->live_keys_in_storage == 0);
  CHECK(check->live_keys_in_scratch == 0);
  CHECK(check->live_keys_in_key_backups == 0);
  CHECK(check->erased());
  // The restore was real: bob's mailbox opens in the scratch host.
  CHECK(scratch.messages().read(to_bob.id, bob.id, Origin{}).value().text == "for bob");
  auto verified = env.events("user.erase.verify");
  REQUIRE(verified.size() == 1);
  CHECK(verified[0].status == sdk::AuditStatus::success);
}

TEST_CASE("erasure: a restore never brings a destroyed key back", "[erasure][backup]") {
  test::ServiceEnv env(per_user_keys);
  auto alice = env.user("alice"), bob = env.user("bob");
  auto to_alice = send(env, bob, alice, "secret");
  const fs::path out = env.dir() / "backups", offsite = env.dir() / "offsite";
  fs::create_directories(out);
  auto made = env.services().backup(BackupOptions{out, false});
  REQUIRE(made);
  REQUIRE(made->key_backup);
  // A copy the host does not know of (an off-site sync), taken before the erase: it keeps the key.
  fs::create_directories(offsite);
  fs::copy(*made->key_backup, offsite / made->key_backup->filename(), fs::copy_options::recursive);
  REQUIRE(env.services().erasure().erase(alice.id, Origin{}));

  SECTION("into the same storage: its tombstone refuses the old key") {
    fs::copy(offsite / made->key_backup->filename(), out / "strata-keys-20000101T000000Z", fs::copy_options::recursive);
    auto restored = env.services().restore(made->dir, true, Origin{});
    INFO((restored ? std::string() : restored.error().describe()));
    REQUIRE(restored);
    REQUIRE(restored->data_keys);
    CHECK(restored->data_keys->sources.size() == 2);
    CHECK(restored->data_keys->refused_destroyed >= 1);
    CHECK(code_of(read(env, to_alice, bob.id)) == sdk::ErrorCode::key_destroyed);
  }
  SECTION("into an empty storage with a newer key backup beside it: its tombstone refuses the old key") {
    fs::copy(offsite / made->key_backup->filename(), out / "strata-keys-20000101T000000Z", fs::copy_options::recursive);
    test::ServiceEnv fresh(per_user_keys);
    auto restored = fresh.services().restore(made->dir, false, Origin{});
    INFO((restored ? std::string() : restored.error().describe()));
    REQUIRE(restored);
    CHECK(restored->data_keys->refused_destroyed == 1);
    CHECK(code_of(read(fresh, to_alice, bob.id)) == sdk::ErrorCode::key_destroyed);
  }
  SECTION("only the unscrubbed copy, into an empty storage: the window the retention bounds") {
    // The documented limit: a key backup copied out of the host's reach before the erase opens the data
    // backup until it is deleted. Key backups older than [erasure] key_backup_retention_days are deleted
    // by the next backup; off-site copies must be kept no longer.
    const fs::path elsewhere = env.dir() / "elsewhere";
    fs::create_directories(elsewhere);
    fs::copy(made->dir, elsewhere / made->dir.filename(), fs::copy_options::recursive);
    fs::copy(offsite / made->key_backup->filename(), elsewhere / made->key_backup->filename(),
             fs::copy_options::recursive);
    test::ServiceEnv fresh(per_user_keys);
    auto restored = fresh.services().restore(elsewhere / made->dir.filename(), false, Origin{});
    INFO((restored ? std::string() : restored.error().describe()));
    REQUIRE(restored);
    CHECK(restored->data_keys->restored == 2);  // alice's and bob's (made to seal their registration's address)
    CHECK(read(fresh, to_alice, bob.id).value().text == "secret");
  }
}

TEST_CASE("erasure: key backups past the retention are deleted by the next backup", "[erasure][backup]") {
  test::ServiceEnv env(per_user_keys + "key_backup_retention_days = 1\n");
  auto alice = env.user("alice"), bob = env.user("bob");
  send(env, bob, alice, "secret");
  const fs::path out = env.dir() / "backups";
  fs::create_directories(out / "strata-keys-20200101T000000Z");  // from long ago
  auto made = env.services().backup(BackupOptions{out, false});
  REQUIRE(made);
  CHECK(made->key_backups_deleted == std::vector<fs::path>{out / "strata-keys-20200101T000000Z"});
  CHECK_FALSE(fs::exists(out / "strata-keys-20200101T000000Z"));
  CHECK(fs::exists(*made->key_backup));
}

TEST_CASE("erasure: an edited key backup is refused before anything is restored", "[erasure][backup]") {
  test::ServiceEnv env(per_user_keys);
  auto alice = env.user("alice"), bob = env.user("bob");
  send(env, bob, alice, "secret");
  const fs::path out = env.dir() / "backups";
  fs::create_directories(out);
  auto made = env.services().backup(BackupOptions{out, false});
  REQUIRE(made);
  auto doc = nlohmann::json::parse(test::read_text(*made->key_backup / "keys.json"));
  doc["keys"][0]["destroyed_at_us"] = nullptr;
  doc["keys"][0]["user_id"] = sdk::Uuid::generate().str();  // a key moved to another user
  std::ofstream(*made->key_backup / "keys.json") << doc.dump();
  test::ServiceEnv fresh(per_user_keys);
  auto refused = fresh.services().restore(made->dir, false, Origin{});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == sdk::ErrorCode::auth_failed);
  CHECK(refused.error().message.find("keys.json") != std::string::npos);
  CHECK(fresh.host().storage()->has_data().value() == false);
}
