#pragma once
// The storage kit's sections on users' data keys (SDK 1.11): the keys that
// erasing a user destroys. Included by storage_kit.hpp; run with it.

#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <vector>

#include "strata/sdk/sdk.hpp"
#include "strata/sdk/testing/catch.hpp"
#include "strata/sdk/testing/expect.hpp"
#include "strata/sdk/testing/fixtures.hpp"

namespace strata::sdk::testing::detail {

inline DataKey make_data_key(const Uuid& user, Timestamp at, std::uint8_t fill = 0x5a) {
  DataKey key;
  key.id = Uuid::generate();
  key.user_id = user;
  key.wrapped = Bytes(60, fill);
  key.created_at = at;
  return key;
}

// Every data key record, page by page.
inline std::vector<DataKey> every_data_key(Storage& s, std::size_t limit) {
  std::vector<DataKey> out;
  PageRequest request{limit, std::nullopt};
  for (int guard = 0; guard < 100000; ++guard) {
    auto page = expect_ok(s.all_data_keys(request));
    out.insert(out.end(), page.items.begin(), page.items.end());
    if (!page.next) break;
    request.after = page.next;
  }
  return out;
}

inline void run_data_key_sections(bool data_keys, bool backup, const std::function<std::shared_ptr<Storage>()>& fresh,
                                  const std::shared_ptr<Storage>& s, Timestamp t0) {
  SECTION("data keys (SDK 1.11): stored exactly, newest first, per user") {
    if (!data_keys) {
      expect_error(s->get_data_key(Uuid::generate()), ErrorCode::unsupported);
      expect_error(s->destroy_data_keys(Uuid::generate(), t0), ErrorCode::unsupported);
      return;
    }
    const Uuid alice = Uuid::generate(), bob = Uuid::generate();
    DataKey older = make_data_key(alice, t0 - std::chrono::hours(1), 0x01);
    DataKey newer = make_data_key(alice, t0, 0x02);
    newer.wrapped = all_byte_values();  // any bytes survive
    DataKey bobs = make_data_key(bob, t0);
    for (const auto* k : {&older, &newer, &bobs}) expect_ok(s->insert_data_key(*k));
    CHECK(expect_ok(s->get_data_key(newer.id)) == newer);
    CHECK(expect_ok(s->data_keys_for_user(alice)) == std::vector<DataKey>{newer, older});
    CHECK(expect_ok(s->data_keys_for_user(Uuid::generate())).empty());
    expect_error(s->get_data_key(Uuid::generate()), ErrorCode::not_found);
    expect_error(s->insert_data_key(newer), ErrorCode::already_exists);
  }

  SECTION("data keys (SDK 1.11): destroyed in one call, tombstoned, never stored again") {
    if (!data_keys) return;
    const Uuid alice = Uuid::generate(), bob = Uuid::generate();
    DataKey a1 = make_data_key(alice, t0 - std::chrono::hours(1)), a2 = make_data_key(alice, t0);
    DataKey b1 = make_data_key(bob, t0);
    for (const auto* k : {&a1, &a2, &b1}) expect_ok(s->insert_data_key(*k));
    const Timestamp at = t0 + std::chrono::seconds(7);
    auto destroyed = expect_ok(s->destroy_data_keys(alice, at));
    CHECK(std::set<Uuid>(destroyed.begin(), destroyed.end()) == std::set<Uuid>{a1.id, a2.id});
    CHECK(expect_ok(s->data_keys_for_user(alice)).empty());
    CHECK(expect_ok(s->data_keys_for_user(bob)) == std::vector<DataKey>{b1});  // others untouched
    auto tombstone = expect_ok(s->get_data_key(a1.id));
    CHECK(tombstone.wrapped.empty());
    CHECK(tombstone.destroyed_at == at);
    CHECK(tombstone.user_id == alice);
    CHECK(tombstone.created_at == a1.created_at);
    // Destroying again destroys nothing more.
    CHECK(expect_ok(s->destroy_data_keys(alice, at)).empty());
    // The old key material offered again (a restore of an older key backup) is refused.
    expect_error(s->insert_data_key(a1), ErrorCode::key_destroyed);
    CHECK(expect_ok(s->get_data_key(a1.id)).wrapped.empty());
    // A compare-and-set on a destroyed key never brings it back.
    CHECK_FALSE(expect_ok(s->replace_data_key_wrapping(a2.id, a2.wrapped, Bytes(60, 0x77))));
    CHECK(expect_ok(s->get_data_key(a2.id)).wrapped.empty());
  }

  SECTION("data keys (SDK 1.11): a tombstone inserted destroys a stored key, or stands for one not yet seen") {
    if (!data_keys) return;
    const Uuid alice = Uuid::generate();
    DataKey live = make_data_key(alice, t0);
    expect_ok(s->insert_data_key(live));
    DataKey tombstone = live;
    tombstone.wrapped.clear();
    tombstone.destroyed_at = t0 + std::chrono::seconds(1);
    expect_ok(s->insert_data_key(tombstone));
    CHECK(expect_ok(s->get_data_key(live.id)) == tombstone);
    expect_ok(s->insert_data_key(tombstone));  // again: nothing changes
    expect_error(s->insert_data_key(live), ErrorCode::key_destroyed);
    // A tombstone for an id this storage never held keeps that id out too.
    DataKey unseen = make_data_key(alice, t0);
    DataKey unseen_tombstone = unseen;
    unseen_tombstone.wrapped.clear();
    unseen_tombstone.destroyed_at = t0;
    expect_ok(s->insert_data_key(unseen_tombstone));
    expect_error(s->insert_data_key(unseen), ErrorCode::key_destroyed);
    CHECK(expect_ok(s->data_keys_for_user(alice)).empty());
  }

  SECTION("data keys (SDK 1.11): all pages, tombstones included; wrapping replaced by compare-and-set") {
    if (!data_keys) return;
    std::vector<DataKey> stored;
    for (int i = 0; i < 7; ++i) {
      stored.push_back(make_data_key(Uuid::generate(), t0 + std::chrono::seconds(i % 3)));
      expect_ok(s->insert_data_key(stored.back()));
    }
    expect_ok(s->destroy_data_keys(stored[0].user_id, t0));
    auto all = every_data_key(*s, 3);
    REQUIRE(all.size() == 7);
    for (std::size_t i = 1; i < all.size(); ++i)
      CHECK(std::tie(all[i - 1].created_at, all[i - 1].id) > std::tie(all[i].created_at, all[i].id));
    CHECK(std::count_if(all.begin(), all.end(), [](const DataKey& k) { return k.destroyed_at.has_value(); }) == 1);
    expect_error(s->all_data_keys(PageRequest{0, std::nullopt}), ErrorCode::invalid_argument);
    const DataKey& k = stored[1];
    const Bytes replacement(60, 0x33);
    CHECK(expect_ok(s->replace_data_key_wrapping(k.id, k.wrapped, replacement)));
    CHECK_FALSE(expect_ok(s->replace_data_key_wrapping(k.id, k.wrapped, Bytes(60, 0x44))));  // lost the race
    CHECK(expect_ok(s->get_data_key(k.id)).wrapped == replacement);
    expect_error(s->replace_data_key_wrapping(Uuid::generate(), k.wrapped, replacement), ErrorCode::not_found);
  }

  SECTION("data keys (SDK 1.11): left out of the plugin's backup, untouched by its restore") {
    if (!data_keys || !backup) return;
    const Uuid alice = Uuid::generate(), bob = Uuid::generate();
    DataKey a = make_data_key(alice, t0), b = make_data_key(bob, t0);
    expect_ok(s->insert_data_key(a));
    expect_ok(s->insert_data_key(b));
    ScratchDir dir;
    expect_ok(s->backup(dir.path()));
    // A fresh store restored from that backup holds no key at all.
    auto restored = fresh();
    expect_ok(restored->restore(dir.path()));
    CHECK(every_data_key(*restored, 100).empty());
    // Restored over itself after an erase: the tombstone stays, the key does not come back.
    expect_ok(s->destroy_data_keys(alice, t0));
    expect_ok(s->restore(dir.path()));
    CHECK(expect_ok(s->get_data_key(a.id)).destroyed_at.has_value());
    CHECK(expect_ok(s->data_keys_for_user(bob)) == std::vector<DataKey>{b});
  }
}

}  // namespace strata::sdk::testing::detail
