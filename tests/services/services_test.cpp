// The services on the configuration STRATA_SERVICES_CONFIG names (see
// service_env.hpp): ctest runs this file once on the memory stubs and once
// on config/production.toml against the real servers.

#include <catch2/catch.hpp>
#include <cryptopp/base64.h>
#include <cryptopp/osrng.h>
#include <cryptopp/xed25519.h>

#include <algorithm>
#include <future>
#include <span>
#include <thread>

#include "encoding.hpp"
#include "service_env.hpp"
#include "strata/services/password_hash.hpp"

using namespace std::chrono_literals;
using namespace strata;

namespace {

sdk::Message stored(test::ServiceEnv& env, const sdk::Uuid& id) {
  auto m = env.host().storage()->get_message(id);
  REQUIRE(m);
  return *m;
}

// How many successful calls of `operation` the storage answered so far.
double storage_calls(test::ServiceEnv& env, const std::string& operation) {
  std::string series = "strata_plugin_calls_total{instance=\"default\",operation=\"" + operation +
                       "\",outcome=\"ok\",role=\"storage\"} ";
  std::string text = env.host().metrics()->prometheus();
  auto at = text.find(series);
  return at == std::string::npos ? 0 : std::stod(text.substr(at + series.size()));
}

// A rotated ring's key that is not the primary one ("" if none).
std::string other_key(sdk::Cipher& cipher) {
  std::string primary = cipher.primary_key_id().value();
  auto ids = cipher.key_ids().value();  // kept: the loop must not range over a temporary's inside
  for (const auto& id : ids)
    if (id != primary) return id;
  return {};
}

}  // namespace

TEST_CASE("users: register, authenticate, cached lookups invalidated on change", "[services][users]") {
  test::ServiceEnv env;
  auto alice = env.user("alice");
  CHECK(alice.password_hash.empty());  // never leaves the service
  auto in_storage = env.host().storage()->get_user(alice.id);
  REQUIRE(in_storage);
  CHECK(in_storage->password_hash.starts_with("$scrypt$ln=11,r=8,p=1$"));
  CHECK(verify_password("alice-password", in_storage->password_hash,
                        read_service_settings(env.host()).value().users.scrypt)
            .value());

  auto logged_in = env.users().authenticate("alice", "alice-password", Origin{});
  REQUIRE(logged_in);
  CHECK(logged_in->last_login.has_value());
  CHECK(env.users().get(alice.id)->last_login == logged_in->last_login);  // the cache was invalidated
  CHECK(env.users().by_username("alice")->id == alice.id);
  CHECK(env.users().by_email("alice@example.org")->id == alice.id);

  // Cached as JSON in the default cache, without the hash.
  auto cached = env.host().cache("default")->get("user:id:" + alice.id.str());
  REQUIRE(cached);
  REQUIRE(cached->has_value());
  std::string json = sdk::to_string(**cached);
  CHECK(json.find("\"username\":\"alice\"") != std::string::npos);
  CHECK(json.find("scrypt") == std::string::npos);

  REQUIRE(env.users().deactivate(alice.id, Origin{}));
  CHECK_FALSE(env.users().by_username("alice")->is_active);
  auto refused = env.users().authenticate("alice", "alice-password", Origin{});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == sdk::ErrorCode::auth_failed);

  CHECK(env.users().register_user("alice", "other@example.org", "long enough", Origin{}).error().code ==
        sdk::ErrorCode::already_exists);
  CHECK(env.users().register_user("bob", "not-an-email", "long enough", Origin{}).error().code ==
        sdk::ErrorCode::invalid_argument);
  CHECK(env.users().register_user("bob", "bob@example.org", "short", Origin{}).error().code ==
        sdk::ErrorCode::invalid_argument);
  CHECK(env.users().register_user(std::string("bo\0b", 4), "bob@example.org", "long enough", Origin{}).error().code ==
        sdk::ErrorCode::invalid_argument);
}

TEST_CASE("security: a wrong password is refused and audited with its reason, the password nowhere", "[services][security]") {
  test::ServiceEnv env;
  auto alice = env.user("alice");
  const std::string guess = "hunter2-guess-5f3a";
  auto wrong = env.users().authenticate("alice", guess, Origin{"198.51.100.7"});
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == sdk::ErrorCode::auth_failed);
  auto unknown = env.users().authenticate("mallory", guess, Origin{});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message == wrong.error().message);  // no probing for usernames

  auto logins = env.events("user.login");
  REQUIRE(logins.size() == 2);
  std::set<std::string> reasons;
  for (const auto& e : logins) {
    CHECK(e.status == sdk::AuditStatus::failure);
    reasons.insert(nlohmann::json::parse(e.metadata).at("reason").get<std::string>());
  }
  CHECK(reasons == std::set<std::string>{"wrong_password", "unknown_user"});
  CHECK(logins.back().ip == "198.51.100.7");

  env.settle_audit();
  sdk::AuditQuery all;
  all.limit = 10000;
  auto every = env.host().audit()->query(all).value();
  for (const auto& e : every) {
    CHECK(e.metadata.find(guess) == std::string::npos);
    CHECK(e.metadata.find("alice-password") == std::string::npos);
  }
}

TEST_CASE("messages: sealed at rest, decrypted for sender and recipient only", "[services][messages]") {
  test::ServiceEnv env;
  auto alice = env.user("alice"), bob = env.user("bob"), carol = env.user("carol");
  const std::string text = "meet at the usual place; bring the 'keys' \"now\" \x01\n";
  auto sent = env.messages().send({alice.id, bob.id, text, std::nullopt}, Origin{});
  REQUIRE(sent);
  auto row = stored(env, sent->id);
  CHECK(row.encrypted_content.size() == text.size() + 16);  // GCM tag
  CHECK(std::search(row.encrypted_content.begin(), row.encrypted_content.end(), text.begin(), text.begin() + 8) ==
        row.encrypted_content.end());

  auto inbox = env.messages().inbox(bob.id, sdk::PageRequest{}, Origin{});
  REQUIRE(inbox);
  REQUIRE(inbox->items.size() == 1);
  CHECK(inbox->items[0].text.value() == text);

  auto read = env.messages().read(sent->id, bob.id, Origin{});
  REQUIRE(read);
  CHECK(read->text == text);
  CHECK(read->envelope.is_read);
  CHECK(read->envelope.read_at.has_value());
  CHECK(env.messages().read(sent->id, alice.id, Origin{}).value().text == text);
  CHECK(env.messages().read(sent->id, carol.id, Origin{}).error().code == sdk::ErrorCode::not_found);

  auto reply = env.messages().send({bob.id, alice.id, "ok", std::nullopt}, Origin{});
  REQUIRE(reply);
  auto conversation = env.messages().conversation(alice.id, bob.id, sdk::PageRequest{}, Origin{});
  REQUIRE(conversation);
  REQUIRE(conversation->items.size() == 2);
  CHECK(conversation->items[0].text.value() == "ok");

  REQUIRE(env.messages().remove(sent->id, bob.id, Origin{}));
  CHECK(env.messages().inbox(bob.id, sdk::PageRequest{}, Origin{})->items.empty());
  CHECK(env.messages().read(sent->id, bob.id, Origin{}).error().code == sdk::ErrorCode::not_found);
  CHECK(env.messages().remove(reply->id, carol.id, Origin{}).error().code == sdk::ErrorCode::not_found);

  CHECK(env.messages().send({alice.id, sdk::Uuid::generate(), "x", std::nullopt}, Origin{}).error().code ==
        sdk::ErrorCode::invalid_argument);
  CHECK(env.events("message.send").size() == 2);
  CHECK(env.events("message.send")[0].metadata.find("ok") == std::string::npos);  // no plaintext in the trail
}

TEST_CASE("security: a flipped byte or a ciphertext moved to another row is refused and audited", "[services][security]") {
  test::ServiceEnv env;
  auto alice = env.user("alice"), bob = env.user("bob");
  auto first = env.messages().send({alice.id, bob.id, "first secret", std::nullopt}, Origin{}).value();
  auto second = env.messages().send({alice.id, bob.id, "second secret", std::nullopt}, Origin{}).value();
  auto storage = env.host().storage();

  SECTION("bit flip") {
    for (std::size_t at : {std::size_t{0}, first.encrypted_content.size() - 1}) {  // in the text, in the tag
      auto flipped = first.encrypted_content;
      flipped[at] ^= 0x80;
      REQUIRE(storage->replace_message_content(first.id, first.key_id, flipped, first.iv, first.key_id).value());
      auto read = env.messages().read(first.id, bob.id, Origin{});
      REQUIRE_FALSE(read);
      CHECK(read.error().code == sdk::ErrorCode::auth_failed);
      REQUIRE(storage->replace_message_content(first.id, first.key_id, first.encrypted_content, first.iv, first.key_id));
    }
  }
  SECTION("row swap: second's ciphertext in first's row") {
    REQUIRE(storage->replace_message_content(first.id, first.key_id, second.encrypted_content, second.iv,
                                             second.key_id));
    auto read = env.messages().read(first.id, bob.id, Origin{});
    REQUIRE_FALSE(read);
    CHECK(read.error().code == sdk::ErrorCode::auth_failed);
    auto inbox = env.messages().inbox(bob.id, sdk::PageRequest{}, Origin{});
    REQUIRE(inbox);
    REQUIRE(inbox->items.size() == 2);
    CHECK(inbox->items[0].text.value() == "second secret");
    CHECK(inbox->items[1].text.error().code == sdk::ErrorCode::auth_failed);
  }
  SECTION("a copy in a new row with another recipient") {
    auto mallory = env.user("mallory");
    sdk::Message copy = first;
    copy.id = sdk::Uuid::generate();
    copy.recipient_id = mallory.id;
    REQUIRE(storage->insert_message(copy));
    CHECK(env.messages().read(copy.id, mallory.id, Origin{}).error().code == sdk::ErrorCode::auth_failed);
  }
  auto refusals = env.events("message.open");
  REQUIRE_FALSE(refusals.empty());
  for (const auto& e : refusals) CHECK(e.status == sdk::AuditStatus::failure);
}

TEST_CASE("messages: a TTL hides the message when it passes, and the purge removes it", "[services][messages]") {
  test::ServiceEnv env;
  auto alice = env.user("alice"), bob = env.user("bob");
  auto fleeting = env.messages().send({alice.id, bob.id, "soon gone", 1s}, Origin{}).value();
  auto lasting = env.messages().send({alice.id, bob.id, "stays", std::nullopt}, Origin{}).value();
  REQUIRE(fleeting.expires_at);
  CHECK(env.messages().inbox(bob.id, sdk::PageRequest{}, Origin{})->items.size() == 2);
  std::this_thread::sleep_for(1100ms);
  auto inbox = env.messages().inbox(bob.id, sdk::PageRequest{}, Origin{});
  REQUIRE(inbox->items.size() == 1);
  CHECK(inbox->items[0].envelope.id == lasting.id);
  CHECK(env.services().maintenance().purge_expired().value() == 1);
  CHECK(env.host().storage()->get_message(fleeting.id).error().code == sdk::ErrorCode::not_found);
  CHECK(env.messages().send({alice.id, bob.id, "x", 0s}, Origin{}).error().code == sdk::ErrorCode::invalid_argument);
}

TEST_CASE("messages: a batch of 100 goes through the storage batch path, all or nothing", "[services][messages]") {
  test::ServiceEnv env;
  auto alice = env.user("alice"), bob = env.user("bob");
  std::vector<Outgoing> batch;
  for (int i = 0; i < 100; ++i) batch.push_back({alice.id, bob.id, "message " + std::to_string(i), std::nullopt});
  // Every bundled storage checks the users inside the commit (SDK 1.8), outbox or not.
  std::string batch_call = "insert_sends";
  auto batch_calls_before = storage_calls(env, batch_call);
  auto sent = env.messages().send_batch(batch, Origin{});
  INFO((sent ? std::string() : sent.error().describe()));
  REQUIRE(sent);
  CHECK(sent->size() == 100);
  // One storage call for the whole batch (with its 100 audit events, when the storage has an outbox).
  CHECK(storage_calls(env, batch_call) == batch_calls_before + 1);
  std::size_t seen = 0;
  sdk::PageRequest page{30, std::nullopt};
  for (;;) {
    auto p = env.messages().inbox(bob.id, page, Origin{}).value();
    for (const auto& e : p.items) CHECK(e.text.value().starts_with("message "));
    seen += p.items.size();
    if (!p.next) break;
    page.after = p.next;
  }
  CHECK(seen == 100);
  batch.push_back({alice.id, sdk::Uuid::generate(), "to nobody", std::nullopt});
  CHECK_FALSE(env.messages().send_batch(batch, Origin{}));
  CHECK(env.host().storage()->count_messages_not_under_key("").value() == 100);  // nothing of the failed batch
}

TEST_CASE("sessions: tokens, sliding expiry, revoke and revoke-all", "[services][sessions]") {
  test::ServiceEnv env("[sessions]\nttl_s = 2\n");
  auto alice = env.user("alice");
  auto& sessions = env.services().sessions();
  auto s1 = sessions.create(alice.id, Origin{"203.0.113.9"});
  REQUIRE(s1);
  CHECK(s1->token.size() == 43);  // 256 bits, base64url
  CHECK(sessions.get(s1->token)->user_id == alice.id);
  CHECK(sessions.get(s1->token)->ip == "203.0.113.9");
  CHECK(sessions.get("not-a-token").error().code == sdk::ErrorCode::auth_failed);

  std::this_thread::sleep_for(1200ms);
  REQUIRE(sessions.touch(s1->token));  // restarts the 2 s
  std::this_thread::sleep_for(1200ms);
  CHECK(sessions.get(s1->token));      // 2.4 s after creation: alive thanks to the touch
  std::this_thread::sleep_for(2200ms);
  CHECK(sessions.get(s1->token).error().code == sdk::ErrorCode::auth_failed);  // expired

  auto s2 = sessions.create(alice.id, Origin{}).value();
  REQUIRE(sessions.revoke(s2.token, Origin{}));
  CHECK(sessions.get(s2.token).error().code == sdk::ErrorCode::auth_failed);

  auto s3 = sessions.create(alice.id, Origin{}).value();
  auto s4 = sessions.create(alice.id, Origin{}).value();
  REQUIRE(sessions.revoke_all(alice.id, Origin{}));
  CHECK_FALSE(sessions.get(s3.token));
  CHECK_FALSE(sessions.touch(s4.token));
  std::this_thread::sleep_for(5ms);
  auto s5 = sessions.create(alice.id, Origin{}).value();
  CHECK(sessions.get(s5.token));  // a session after the revocation works

  // The cache holds the token's hash, never the token.
  CHECK_FALSE(env.host().cache("session")->exists(s5.token).value());
  CHECK(env.events("session.revoke_all").size() == 1);
  // The revocation is the storage's record (SDK 1.9), not a mark in the cache.
  const std::vector<std::string> subject{"user:" + alice.id.str()};
  auto recorded = env.host().storage()->sessions_revoked_before(subject);
  REQUIRE(recorded);
  CHECK(recorded->has_value());
  CHECK_FALSE(env.host().cache("session")->exists("revoked-before:" + alice.id.str()).value());
}

TEST_CASE("sessions: none for a deactivated user or an id that names no user, and each refusal audited",
          "[services][sessions][hardening]") {
  test::ServiceEnv env;
  auto alice = env.user("alice");
  auto& sessions = env.services().sessions();
  REQUIRE(env.services().users().deactivate(alice.id, Origin{}));
  auto inactive = sessions.create(alice.id, Origin{});
  REQUIRE_FALSE(inactive);
  CHECK(inactive.error().code == sdk::ErrorCode::invalid_argument);
  CHECK(inactive.error().message.find("deactivated") != std::string::npos);
  auto nobody = sessions.create(sdk::Uuid::generate(), Origin{});
  REQUIRE_FALSE(nobody);
  CHECK(nobody.error().code == sdk::ErrorCode::invalid_argument);
  CHECK(nobody.error().message.find("no user with id") != std::string::npos);
  auto refused = env.events("session.create");
  REQUIRE(refused.size() == 2);
  for (const auto& e : refused) CHECK(e.status == sdk::AuditStatus::failure);
}

TEST_CASE("sessions: a revoke outlives a session cache restored from an older snapshot, and a restore",
          "[services][sessions][hardening]") {
  test::ServiceEnv env;
  auto alice = env.user("alice"), bob = env.user("bob"), carol = env.user("carol");
  auto& sessions = env.services().sessions();
  auto one = sessions.create(alice.id, Origin{}).value();
  auto all = sessions.create(bob.id, Origin{}).value();
  auto kept = sessions.create(carol.id, Origin{}).value();
  // A snapshot of the session cache, as a Redis RDB file or a backup holds it.
  auto cache = env.host().cache("session");
  auto snapshot = env.dir() / "session-snapshot";
  std::filesystem::create_directories(snapshot);
  REQUIRE(cache->backup(snapshot));
  REQUIRE(sessions.revoke(one.token, Origin{}));
  REQUIRE(sessions.revoke_all(bob.id, Origin{}));
  CHECK_FALSE(sessions.get(one.token));
  CHECK_FALSE(sessions.get(all.token));
  // The cache comes back as it was before the revocations (a restart from that snapshot).
  REQUIRE(cache->restore(snapshot));
  REQUIRE(cache->exists("token:" + detail::sha256_hex(sdk::as_bytes(one.token))).value());  // the token is back
  CHECK(sessions.get(one.token).error().code == sdk::ErrorCode::auth_failed);
  CHECK(sessions.touch(all.token).error().code == sdk::ErrorCode::auth_failed);
  CHECK(sessions.get(kept.token));  // what nobody revoked is untouched
  std::this_thread::sleep_for(5ms);
  auto later = sessions.create(bob.id, Origin{}).value();
  CHECK(sessions.get(later.token));  // bob may log in again

  // A backup made now carries live sessions; restoring it (forced, over the
  // same data) ends every session made before the restore, revoked or not.
  auto out = env.dir() / "backups";
  std::filesystem::create_directories(out);
  env.settle_audit();  // the file audit sink has its events on disk to back up
  auto made = env.services().backup(BackupOptions{out, false});
  REQUIRE(made);
  auto restored = env.services().restore(made->dir, true);
  INFO((restored ? std::string() : restored.error().describe()));
  REQUIRE(restored);
  for (const auto* token : {&kept.token, &later.token, &one.token})
    CHECK(sessions.get(*token).error().code == sdk::ErrorCode::auth_failed);
  std::this_thread::sleep_for(5ms);
  auto fresh = sessions.create(carol.id, Origin{}).value();
  CHECK(sessions.get(fresh.token));
  env.settle_audit();
  CHECK(env.events("session.revoke_everyone").size() == 1);
}

TEST_CASE("keys: private half wrapped before storage, rotation deactivates, agreement works", "[services][keys]") {
  test::ServiceEnv env;
  auto alice = env.user("alice"), bob = env.user("bob");
  auto& keys = env.services().keys();
  auto a1 = keys.rotate(alice.id, Origin{});
  auto b1 = keys.rotate(bob.id, Origin{});
  REQUIRE(a1);
  REQUIRE(b1);
  CHECK(keys.current(alice.id)->public_key == a1->public_key);
  CHECK(a1->public_key.size() == 32);  // raw X25519, as BYTEA
  auto a_private = keys.private_key(*a1);
  REQUIRE(a_private);
  REQUIRE(a_private->size() == 32);
  auto& wrapped = a1->private_key_encrypted;
  CHECK(std::search(wrapped.begin(), wrapped.end(), a_private->begin(), a_private->end()) == wrapped.end());

  // X25519: alice's private and bob's public agree with bob's private and alice's public.
  auto b_private = keys.private_key(*b1).value();
  CryptoPP::x25519 x;
  sdk::Bytes ab(32), ba(32);
  REQUIRE(x.Agree(ab.data(), a_private->data(), b1->public_key.data()));
  REQUIRE(x.Agree(ba.data(), b_private.data(), a1->public_key.data()));
  CHECK(ab == ba);

  // A wrapping copied into another record (bob's into alice's row) is refused, and audited.
  auto swapped = *a1;
  swapped.private_key_encrypted = b1->private_key_encrypted;
  auto stolen = keys.private_key(swapped);
  REQUIRE_FALSE(stolen);
  CHECK(stolen.error().code == sdk::ErrorCode::auth_failed);
  auto moved = *b1;
  moved.user_id = alice.id;  // bob's key row re-assigned to alice
  CHECK(keys.private_key(moved).error().code == sdk::ErrorCode::auth_failed);
  CHECK(env.events("key.open").size() == 2);

  auto a2 = keys.rotate(alice.id, Origin{});
  REQUIRE(a2);
  CHECK(keys.current(alice.id)->id == a2->id);
  CHECK_FALSE(env.host().storage()->get_key(a1->id)->is_active);
  CHECK(keys.private_key(env.host().storage()->get_key(a1->id).value()).error().code == sdk::ErrorCode::conflict);
  CHECK(keys.current(alice.id)->public_key == a2->public_key);
  CHECK(env.events("key.rotate").size() == 1);
  CHECK(env.events("key.create").size() == 2);

  sdk::KeyRecord tampered = *a2;
  tampered.private_key_encrypted.back() ^= 1;
  CHECK(keys.private_key(tampered).error().code == sdk::ErrorCode::auth_failed);
}

TEST_CASE("keys: rewrap re-seals messages under the new primary key, and resumes after a crash", "[services][keys]") {
  test::ServiceEnv env("", /*rotated=*/true);
  auto alice = env.user("alice"), bob = env.user("bob");
  auto cipher = env.host().cipher();
  std::string primary = cipher->primary_key_id().value();
  std::string old_key = other_key(*cipher);
  REQUIRE_FALSE(old_key.empty());

  // 25 messages sealed under the old key, as before the rotation.
  CryptoPP::AutoSeededRandomPool rng;
  for (int i = 0; i < 25; ++i) {
    sdk::Message m;
    m.id = sdk::Uuid::generate();
    m.sender_id = alice.id;
    m.recipient_id = bob.id;
    m.created_at = sdk::Timestamp::now() - std::chrono::seconds(i);
    sdk::Bytes iv(12);
    rng.GenerateBlock(iv.data(), iv.size());
    std::string text = "old " + std::to_string(i);
    auto sealed = cipher->seal_with_iv(old_key, iv, sdk::as_bytes(text), Messages::associated_data(m.id, alice.id, bob.id));
    REQUIRE(sealed);
    m.encrypted_content = sealed->ciphertext;
    m.iv = sealed->iv;
    m.key_id = old_key;
    REQUIRE(env.host().storage()->insert_message(m));
  }
  auto storage = env.host().storage();
  CHECK(storage->count_messages_not_under_key(primary).value() == 25);

  struct Crash {};
  CHECK_THROWS_AS(env.messages().rewrap(10, [](const RewrapProgress&) { throw Crash{}; }, Origin{}), Crash);
  CHECK(storage->count_messages_not_under_key(primary).value() == 15);  // the first batch is done

  std::vector<std::uint64_t> reported;
  auto done = env.messages().rewrap(10, [&](const RewrapProgress& p) { reported.push_back(p.rewrapped); }, Origin{});
  REQUIRE(done);
  CHECK(done->total == 15);
  CHECK(done->rewrapped == 15);
  CHECK(done->failed == 0);
  CHECK(reported == std::vector<std::uint64_t>{10, 15});
  CHECK(storage->count_messages_not_under_key(primary).value() == 0);
  std::size_t opened = 0;
  sdk::PageRequest page{100, std::nullopt};
  auto rewrapped = env.messages().inbox(bob.id, page, Origin{}).value();
  for (const auto& e : rewrapped.items) {
    CHECK(e.envelope.key_id == primary);
    CHECK(e.text.value().starts_with("old "));
    ++opened;
  }
  CHECK(opened == 25);
  CHECK(env.messages().rewrap(10, nullptr, Origin{})->total == 0);  // nothing left
}

TEST_CASE("keys: rewrap re-wraps private keys under the new primary key, so the old key can leave the ring",
          "[services][keys][hardening]") {
  test::ServiceEnv env("", /*rotated=*/true);
  auto cipher = env.host().cipher();
  auto storage = env.host().storage();
  std::string primary = cipher->primary_key_id().value();
  std::string old_key = other_key(*cipher);
  REQUIRE_FALSE(old_key.empty());

  // Five users whose private keys are wrapped under the old key, as before the rotation.
  CryptoPP::AutoSeededRandomPool rng;
  auto wrap_under_old = [&](const sdk::KeyRecord& key, const sdk::Bytes& private_half) {
    sdk::Bytes iv(12);
    rng.GenerateBlock(iv.data(), iv.size());
    auto old = cipher->seal_with_iv(old_key, iv, private_half, Keys::associated_data(key.id, key.user_id));
    REQUIRE(old);
    auto wrapping = detail::encode_sealed(*old);
    REQUIRE(storage->replace_key_wrapping(key.id, key.private_key_encrypted, wrapping).value());
    return wrapping;
  };
  std::vector<sdk::KeyRecord> keys;
  std::vector<sdk::Bytes> privates;
  for (int i = 0; i < 5; ++i) {
    auto user = env.user("user" + std::to_string(i));
    auto key = env.services().keys().rotate(user.id, Origin{}).value();
    privates.push_back(env.services().keys().private_key(key).value());
    key.private_key_encrypted = wrap_under_old(key, privates.back());
    keys.push_back(key);
  }
  // One more whose old wrapping was tampered with: counted, audited, left alone.
  auto mallory = env.user("mallory");
  auto bad = env.services().keys().rotate(mallory.id, Origin{}).value();
  auto old_wrapping = wrap_under_old(bad, env.services().keys().private_key(bad).value());
  auto broken = old_wrapping;
  broken.back() ^= 1;
  REQUIRE(storage->replace_key_wrapping(bad.id, old_wrapping, broken).value());

  struct Crash {};
  CHECK_THROWS_AS(env.services().keys().rewrap(2, [](const RewrapProgress&) { throw Crash{}; }, Origin{}), Crash);
  auto done = env.services().keys().rewrap(2, nullptr, Origin{});
  REQUIRE(done);
  CHECK(done->target_key_id == primary);
  CHECK(done->rewrapped + done->skipped <= 5);
  CHECK(done->failed == 1);
  CHECK(env.events("key.rewrap").size() >= 2);  // mallory's, and the run's summary
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto now = storage->get_key(keys[i].id).value();
    CHECK(detail::decode_sealed(now.private_key_encrypted).value().key_id == primary);
    CHECK(env.services().keys().private_key(now).value() == privates[i]);
  }
  CHECK(storage->get_key(bad.id).value().private_key_encrypted == broken);
  auto again = env.services().keys().rewrap(2, nullptr, Origin{});
  CHECK(again->rewrapped == 0);  // resumed: only the broken one is left
  CHECK(again->failed == 1);

}

TEST_CASE("metrics: every plugin call counted, printed for Prometheus, written through the audit role", "[services][metrics]") {
  test::ServiceEnv env;
  auto alice = env.user("alice"), bob = env.user("bob");
  REQUIRE(env.messages().send({alice.id, bob.id, "hi", std::nullopt}, Origin{}));
  env.settle_audit();  // the relay's calls happen now, not between the two metric flushes below
  CHECK_FALSE(env.host().storage()->get_message(sdk::Uuid::generate()));
  std::string text = env.host().metrics()->prometheus();
  // The send's one storage write: the row, and its audit event when the storage has an outbox,
  // stored only if both users exist and are active (SDK 1.8, every bundled storage).
  std::string insert_call = "insert_sends";
  CHECK(text.find("# TYPE strata_plugin_calls_total counter") != std::string::npos);
  CHECK(text.find("strata_plugin_calls_total{instance=\"default\",operation=\"" + insert_call +
                  "\",outcome=\"ok\",role=\"storage\"}") != std::string::npos);
  CHECK(text.find("operation=\"get_message\",outcome=\"not_found\",role=\"storage\"} 1") != std::string::npos);
  CHECK(text.find("strata_plugin_call_duration_seconds_bucket{instance=\"default\",le=\"+Inf\",operation=\"seal\",role=\"cipher\"}") != std::string::npos);

  auto written = env.services().maintenance().flush_metrics();
  REQUIRE(written);
  CHECK(*written > 0);
  sdk::MetricQuery q;
  q.name = "strata_plugin_calls_total";
  q.limit = 10000;
  auto records = env.host().audit()->query_metrics(q);
  REQUIRE(records);
  double inserts = 0;
  for (const auto& r : *records)
    if (r.labels.at("operation") == insert_call) inserts += r.value;
  CHECK(inserts >= 1);  // the send's
  // Next time only what changed since: the query and the flush's own append (count and time each).
  CHECK(env.services().maintenance().flush_metrics().value() == 4);
}

TEST_CASE("metrics: a process that ends stores its audit event counts too", "[services][metrics][hardening]") {
  test::ServiceEnv env;
  {
    // A short-lived process, as the CLI is: one call, then the end.
    auto services = Services::open(env.host(), ServicesOptions{false}).value();
    REQUIRE(services->users().register_user("alice", "alice@example.org", "alice-password", Origin{}));
  }
  env.settle_audit();
  sdk::MetricQuery q;
  q.name = "strata_audit_events_total";
  q.limit = 1000;
  double written = 0;
  auto metrics = env.host().audit()->query_metrics(q).value();  // held: a loop over value() of a temporary dangles
  for (const auto& m : metrics)
    if (m.labels.at("outcome") == "written") written += m.value;
  CHECK(written >= 1);
}

TEST_CASE("security: usernames and emails that are not UTF-8 are refused before anything is written",
          "[services][security][hardening]") {
  test::ServiceEnv env;
  for (const auto& [name, email] : std::vector<std::pair<std::string, std::string>>{
           {"al\xff" "ice", "alice@example.org"},            // not UTF-8 at all
           {"bob", "b\xc0\xaf" "b@example.org"},             // an overlong '/'
           {"carol\xed\xa0\x80", "carol@example.org"},        // a surrogate
           {"dave\xe2\x82", "dave@example.org"}}) {           // cut short
    auto refused = env.users().register_user(name, email, "long enough password", Origin{});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == sdk::ErrorCode::invalid_argument);
    CHECK(refused.error().message.find("valid UTF-8") != std::string::npos);
    // Nothing stored: not found (PostgreSQL refuses to even look up a name that is not UTF-8).
    auto found = env.users().by_username(name);
    REQUIRE_FALSE(found);
    CHECK((found.error().code == sdk::ErrorCode::not_found || found.error().code == sdk::ErrorCode::invalid_argument));
  }
  // Each refusal was audited (the bytes replaced in the event, never a crash).
  env.services().audit().flush();
  CHECK(env.events("user.register").size() == 4);
  CHECK(env.users().register_user("zoë", "zoë@example.org", "long enough password", Origin{}));  // UTF-8 is fine
}

TEST_CASE("security: usernames that could pass for another are refused (Unicode TR #39)",
          "[services][security][hardening]") {
  test::ServiceEnv env;
  env.user("alice");
  for (const auto& [name, why] : std::vector<std::pair<std::string, std::string>>{
           {"alice ", "whitespace"},                     // a trailing space
           {" alice", "whitespace"},
           {"al\u00a0ice", "whitespace"},                // a no-break space
           {"al\u200bice", "invisible"},                 // a zero-width space
           {"\u0430lice", "mixes scripts"},              // a Cyrillic 'а' among Latin letters
           {"pa\u0443pal", "mixes scripts"},             // a Cyrillic 'у'
           {"zoe\u0308", "normal form C"},               // 'zoë' decomposed
           {"user1\u0661", "numbering systems"}}) {      // a Latin and an Arabic-Indic digit
    INFO(name);
    auto refused = env.users().register_user(name, "x@example.org", "long enough password", Origin{});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == sdk::ErrorCode::invalid_argument);
    CHECK(refused.error().message.find(why) != std::string::npos);
    CHECK_FALSE(env.users().by_username(name));
  }
  // One script at a time is welcome, and Latin may mix with the CJK scripts.
  for (std::string name : {"zo\u00eb", "\u0412\u043b\u0430\u0434\u0438\u043c\u0438\u0440", "\u592a\u90ce",
                           "tanaka\u592a\u90ce", "o'brien-2.0_x"}) {
    INFO(name);
    auto accepted = env.users().register_user(name, name + "@example.org", "long enough password", Origin{});
    INFO((accepted ? std::string() : accepted.error().describe()));
    CHECK(accepted);
  }
}

TEST_CASE("security: a message TTL that would overflow is refused, nothing stored", "[services][security][hardening]") {
  test::ServiceEnv env;
  auto alice = env.user("alice"), bob = env.user("bob");
  for (auto ttl : {std::chrono::seconds(9'223'372'036'854), std::chrono::seconds(std::numeric_limits<std::int64_t>::max()),
                   Messages::max_ttl + std::chrono::seconds(1)}) {
    auto refused = env.messages().send({alice.id, bob.id, "forever?", ttl}, Origin{});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == sdk::ErrorCode::invalid_argument);
  }
  CHECK(env.messages().inbox(bob.id, sdk::PageRequest{}, Origin{})->items.empty());
  auto longest = env.messages().send({alice.id, bob.id, "a century", Messages::max_ttl}, Origin{});
  REQUIRE(longest);
  CHECK(*longest->expires_at > longest->created_at);
  CHECK(env.messages().inbox(bob.id, sdk::PageRequest{}, Origin{})->items.size() == 1);
}

TEST_CASE("security: a stored password hash asking for more than the config allows is refused, not run",
          "[services][security][hardening]") {
  test::ServiceEnv env;
  auto alice = env.user("alice");
  auto stored = env.host().storage()->get_user(alice.id).value();
  const std::string salt_and_hash = stored.password_hash.substr(stored.password_hash.find('$', 8));
  for (const char* params : {"ln=22,r=32,p=16", "ln=16,r=8,p=8", "ln=24,r=64,p=1"}) {
    INFO(params);
    stored.password_hash = std::string("$scrypt$") + params + salt_and_hash;
    REQUIRE(env.host().storage()->update_user(stored));
    if (auto cache = env.host().cache()) (void)cache->clear();
    auto login = env.users().authenticate("alice", "alice-password", Origin{});  // returns an error, never throws
    REQUIRE_FALSE(login);
    CHECK(login.error().code == sdk::ErrorCode::auth_failed);
  }
  env.services().audit().flush();
  bool reason_recorded = false;
  for (const auto& e : env.events("user.login"))
    reason_recorded = reason_recorded || e.metadata.find("unreadable_hash") != std::string::npos;
  CHECK(reason_recorded);
}

TEST_CASE("security: concurrent key rotations leave exactly one active key", "[services][keys][hardening]") {
  test::ServiceEnv env;
  auto alice = env.user("alice");
  for (int round = 0; round < 5; ++round) {
    std::vector<std::thread> rotators;
    std::atomic<int> failures{0};
    for (int t = 0; t < 8; ++t)
      rotators.emplace_back([&] {
        if (!env.services().keys().rotate(alice.id, Origin{})) ++failures;
      });
    for (auto& r : rotators) r.join();
    CHECK(failures == 0);
    auto keys = env.services().keys().all(alice.id).value();
    CHECK(std::count_if(keys.begin(), keys.end(), [](const sdk::KeyRecord& k) { return k.is_active; }) == 1);
  }
}

TEST_CASE("hardening: input a caller controls is bounded and escaped in errors and in audit events",
          "[services][hardening]") {
  test::ServiceEnv env;
  // A megabyte email with a line break: the refusal and its event stay small, one line.
  std::string email = std::string(1'000'000, 'e') + "\r\n@example.org";
  auto refused = env.services().users().register_user("mallory", email, "a good password", Origin{std::string(5000, '9')});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.size() < 300);
  CHECK(refused.error().message.find('\r') == std::string::npos);
  auto events = env.events("user.register");
  REQUIRE(events.size() == 1);
  CHECK(events[0].metadata.size() < 4096);
  CHECK(events[0].metadata.find("truncated: 1000014 bytes, sha256 ") != std::string::npos);
  CHECK(events[0].ip.size() < 1200);
  // A plugin's error quoting input (a lookup of a hostile name) is bounded and escaped too.
  auto nobody = env.services().users().by_username("no\r\nbody" + std::string(100'000, 'x'));
  REQUIRE_FALSE(nobody);
  CHECK(nobody.error().code == sdk::ErrorCode::not_found);
  CHECK(nobody.error().message.find('\r') == std::string::npos);
  CHECK(nobody.error().message.find("\\x0d\\x0a") != std::string::npos);
  CHECK(nobody.error().message.size() < 5000);
}

TEST_CASE("audit: events a killed process left in the outbox reach the trail once any process opens the pipeline",
          "[services][audit][hardening]") {
  test::ServiceEnv env;
  if (!env.services().audit().uses_outbox()) return;  // this config's events never wait in an outbox
  auto storage = env.host().storage();
  // What a process killed after its commit leaves: an event in the outbox, relayed by nobody yet.
  auto left = env.services().audit().event(AuditRecord{std::nullopt, "message.send", "message:left-behind"}, Origin{});
  left.timestamp = sdk::Timestamp::now() - std::chrono::seconds(5);
  REQUIRE(storage->insert_with_outbox({}, std::span(&left, 1)));
  CHECK(storage->outbox_size().value() >= 1);
  auto oldest = storage->outbox_oldest();  // what `strata check` reports as the backlog's age
  REQUIRE(oldest);
  REQUIRE(*oldest);
  CHECK(**oldest <= left.timestamp);

  // Another process opening the services (as `strata audit tail` now does) relays it.
  auto other = Services::open(env.host(), ServicesOptions{false});
  REQUIRE(other);
  (*other)->audit().flush();
  other->reset();
  CHECK(storage->outbox_size().value() == 0);
  CHECK_FALSE(storage->outbox_oldest().value());
  sdk::AuditQuery query;
  query.action = "message.send";
  query.limit = 1000;
  auto trail = env.host().audit()->query(query).value();
  CHECK(std::any_of(trail.begin(), trail.end(), [&](const sdk::AuditEvent& e) { return e.id == left.id; }));
}

TEST_CASE("audit: a process with another sink on the same storage never relays this one's outbox into its own",
          "[services][audit][hardening]") {
  test::ServiceEnv env;
  const char* config = std::getenv("STRATA_SERVICES_CONFIG");
  // The in-memory store is this process's alone: no other process shares its outbox.
  if (!env.services().audit().uses_outbox() || !config || std::string(config) == "testing") return;
  env.settle_audit();
  auto storage = env.host().storage();
  // The deployment's events, committed and not yet relayed (a process killed after its commit).
  std::vector<sdk::AuditEvent> waiting;
  for (int i = 0; i < 3; ++i)
    waiting.push_back(env.services().audit().event(
        AuditRecord{std::nullopt, "message.send", "message:deployment-" + std::to_string(i)}, Origin{}));
  REQUIRE(storage->insert_with_outbox({}, waiting));

  // Another process on the same storage with an [audit] of its own (a memory
  // sink): the same config but that table.
  std::string text = env.config_text();
  auto from = text.find("\n[audit]\n");
  REQUIRE(from != std::string::npos);
  auto to = text.find("\n[", from + 1);
  text.replace(from, to == std::string::npos ? std::string::npos : to - from, "\n[audit]\nplugin = \"memory\"\n");
  HostOptions options;
  options.env = test::fake_env(env.env_vars());
  auto other = Host::open_string(text, options, "other-sink.toml");
  INFO((other ? std::string() : other.error().describe()));
  REQUIRE(other);
  {
    auto services = Services::open(**other, ServicesOptions{false});
    REQUIRE(services);
    auto alice = (*services)->users().register_user("alice", "alice@example.org", "alice-password", Origin{});
    REQUIRE(alice);
    (*services)->audit().flush();  // relays what waits for its sink
    // Its own events reached its own sink; none of the deployment's did.
    sdk::AuditQuery all;
    all.limit = 1000;
    auto its_trail = (*other)->audit()->query(all).value();
    CHECK(std::any_of(its_trail.begin(), its_trail.end(), [](const auto& e) { return e.action == "user.register"; }));
    for (const auto& e : its_trail) CHECK(e.resource.find("deployment") == std::string::npos);
  }
  // They waited for the deployment's own sink, and reach it.
  CHECK(storage->outbox_size().value() == 3);
  auto trail = env.events("message.send");
  for (const auto& w : waiting)
    CHECK(std::any_of(trail.begin(), trail.end(), [&](const sdk::AuditEvent& e) { return e.id == w.id; }));
}

TEST_CASE("messages: a user deactivated behind this process's back is refused at the very next send",
          "[services][messages][hardening]") {
  // Sends look nobody up before their commit: the storage checks the users
  // inside it (SDK 1.8 insert_sends). No cache can hold a stale "active".
  test::ServiceEnv env;
  auto alice = env.user("alice"), bob = env.user("bob"), carol = env.user("carol");
  REQUIRE(env.messages().send({alice.id, bob.id, "before", std::nullopt}, Origin{}));
  REQUIRE(env.users().get(alice.id)->is_active);  // whatever this process caches, it has cached alice as active
  // Another process deactivates her with a write of its own: a second host on
  // the same backends (the in-memory stub is this process's alone: its
  // storage, behind the services' back).
  std::unique_ptr<Host> other;
  std::shared_ptr<sdk::Storage> storage = env.host().storage();
  if (const char* config = std::getenv("STRATA_SERVICES_CONFIG"); config && std::string(config) != "testing") {
    HostOptions options;
    options.env = test::fake_env(env.env_vars());
    auto opened = Host::open_string(env.config_text(), options, "other-process.toml");
    REQUIRE(opened);
    other = std::move(*opened);
    storage = other->storage();
  }
  REQUIRE(storage->set_user_active(alice.id, false));

  for (const auto& [from, to] : {std::pair{alice.id, bob.id}, std::pair{bob.id, alice.id}}) {
    auto refused = env.messages().send({from, to, "after", std::nullopt}, Origin{});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == sdk::ErrorCode::invalid_argument);
    CHECK(refused.error().message.find("alice is deactivated") != std::string::npos);
  }
  // Concurrent sends share a commit: the refused one fails alone, the others are stored.
  std::vector<std::future<sdk::Result<sdk::Message>>> sends;
  for (int i = 0; i < 8; ++i)
    sends.push_back(env.messages().send_async({i == 3 ? alice.id : bob.id, carol.id, "batch", std::nullopt}, Origin{}));
  for (int i = 0; i < 8; ++i) {
    auto sent = sends[i].get();
    INFO("send " << i << ": " << (sent ? std::string("stored") : sent.error().describe()));
    CHECK(sent.has_value() == (i != 3));
  }
  CHECK(env.host().storage()->inbox(bob.id, sdk::PageRequest{10, std::nullopt})->items.size() == 1);  // "before" only
  CHECK(env.host().storage()->inbox(carol.id, sdk::PageRequest{10, std::nullopt})->items.size() == 7);
  // Back again, she sends at once.
  REQUIRE(storage->set_user_active(alice.id, true));
  CHECK(env.messages().send({alice.id, bob.id, "again", std::nullopt}, Origin{}));
}
