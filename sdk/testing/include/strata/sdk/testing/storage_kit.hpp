#pragma once
// Storage conformance kit. Instantiate once per plugin and configuration:
//
//   STRATA_STORAGE_CONFORMANCE("memory", my_storage_target())
//
// where the target's `fresh` returns a new, empty, fully migrated storage.

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "strata/sdk/sdk.hpp"
#include "strata/sdk/testing/catch.hpp"
#include "strata/sdk/testing/expect.hpp"
#include "strata/sdk/testing/fixtures.hpp"
#include "strata/sdk/testing/data_keys_kit.hpp"
#include "strata/sdk/testing/inbox_sequence_kit.hpp"

namespace strata::sdk::testing {

/// What the storage kit needs from a plugin.
struct StorageTarget {
  /// A new, empty storage at its newest schema version.
  std::function<std::shared_ptr<Storage>()> fresh;
  /// Capability: safe to insert from one thread while another pages (true for real servers).
  bool concurrent_writers = true;
  /// Capability: backup(), restore() and has_data() (SDK 1.2). Declared false,
  /// the kit checks that they answer `unsupported`.
  bool backup = true;
  /// Capability: key rotation in the storage: messages_not_under_key,
  /// count_messages_not_under_key and replace_message_content (SDK 1.1),
  /// replace_active_key (1.3), all_keys and replace_key_wrapping (1.4).
  /// Declared false, the kit checks `unsupported`; the services then rotate
  /// key pairs in two steps (not atomic) and `keys rewrap` says it cannot run.
  bool key_rotation = true;
  /// Capability: the transactional audit outbox (SDK 1.5): insert_with_outbox,
  /// drain_outbox, outbox_size. Declared false, the kit checks `unsupported`.
  bool outbox = true;
  /// Capability: count_expired (SDK 1.6). Declared false, the kit checks `unsupported`.
  bool count_expired = true;
  /// Capability: what moving from the seed needs (SDK 1.7): count_messages_by_key,
  /// messages_under_key, replace_message_contents, record_login_rehashed.
  /// Declared false, the kit checks `unsupported`.
  bool seed_adoption = true;
  /// Capability: insert_sends (SDK 1.8), messages stored only if their users
  /// exist and are active. Declared false, the kit checks `unsupported`.
  bool checked_sends = true;
  /// Capability: durable session revocations (SDK 1.9): revoke_sessions,
  /// sessions_revoked_before. Declared false, the kit checks `unsupported`.
  bool session_revocations = true;
  /// Capability: the per-recipient sequence (SDK 1.10): inbox_since,
  /// inbox_heads. Declared false, the kit checks `unsupported`; the services
  /// then cannot follow an inbox (Messages::since answers `unsupported`).
  bool inbox_sequence = true;
  /// Capability: users' data keys (SDK 1.11): insert_data_key, get_data_key,
  /// data_keys_for_user, destroy_data_keys, all_data_keys,
  /// replace_data_key_wrapping. Declared false, the kit checks `unsupported`;
  /// the services then cannot seal under per-user keys nor erase a user.
  bool data_keys = true;
};

namespace detail {

// Every visible message of an inbox, page by page.
inline std::vector<Message> all_pages(Storage& s, const Uuid& recipient, std::size_t limit) {
  std::vector<Message> out;
  PageRequest request{limit, std::nullopt};
  for (int guard = 0; guard < 100000; ++guard) {
    auto page = expect_ok(s.inbox(recipient, request));
    CHECK(page.items.size() <= limit);
    out.insert(out.end(), page.items.begin(), page.items.end());
    if (!page.next) break;
    CHECK(page.items.size() == limit);
    request.after = page.next;
  }
  return out;
}

inline bool newest_first(const Message& a, const Message& b) {
  return std::tie(a.created_at, a.id) > std::tie(b.created_at, b.id);
}

}  // namespace detail

/// Runs every storage check; each SECTION gets a fresh storage.
inline void run_storage_conformance(const StorageTarget& target) {
  using detail::expect_error;
  using detail::expect_ok;
  std::shared_ptr<Storage> s = target.fresh();
  REQUIRE(s);
  const Timestamp t0 = now_ms();

  SECTION("health and schema: newest version, migrating to it is a no-op") {
    expect_ok(s->health());
    auto status = expect_ok(s->schema_status());
    CHECK(status.current == status.latest);
    CHECK(status.latest >= 1);
    auto again = expect_ok(s->migrate(status.latest));
    CHECK(again.current == status.latest);
  }

  SECTION("users: stored exactly, found by id, username and email") {
    for (const auto& hostile : hostile_strings()) {
      User u = make_user("u", t0);
      u.username = hostile + u.id.str();
      u.email = u.id.str() + "@" + hostile;
      u.password_hash = hostile;
      expect_ok(s->create_user(u));
      CHECK(expect_ok(s->get_user(u.id)) == u);
      CHECK(expect_ok(s->find_user_by_username(u.username)) == u);
      CHECK(expect_ok(s->find_user_by_email(u.email)) == u);
    }
    User none = make_user("none");
    expect_error(s->get_user(none.id), ErrorCode::not_found);
    expect_error(s->find_user_by_username(none.username), ErrorCode::not_found);
    expect_error(s->find_user_by_email(none.email), ErrorCode::not_found);
  }

  SECTION("users: id, username and email are unique") {
    User a = make_user("a", t0);
    expect_ok(s->create_user(a));
    User same_id = make_user("b", t0);
    same_id.id = a.id;
    expect_error(s->create_user(same_id), ErrorCode::already_exists);
    User same_name = make_user("c", t0);
    same_name.username = a.username;
    expect_error(s->create_user(same_name), ErrorCode::already_exists);
    User same_email = make_user("d", t0);
    same_email.email = a.email;
    expect_error(s->create_user(same_email), ErrorCode::already_exists);
    CHECK(expect_ok(s->get_user(a.id)) == a);
    expect_error(s->find_user_by_username(same_email.username), ErrorCode::not_found);
  }

  SECTION("users: update, last login, activation, uniqueness on update") {
    User a = make_user("a", t0), b = make_user("b", t0);
    expect_ok(s->create_user(a));
    expect_ok(s->create_user(b));
    a.email = "new-" + a.email;
    a.password_hash = "$scrypt$ln=15,r=8,p=1$bmV3$bmV3";
    a.updated_at = t0 + std::chrono::seconds(5);
    expect_ok(s->update_user(a));
    CHECK(expect_ok(s->get_user(a.id)) == a);
    CHECK(expect_ok(s->find_user_by_email(a.email)).id == a.id);
    User clash = a;
    clash.username = b.username;
    expect_error(s->update_user(clash), ErrorCode::already_exists);
    CHECK(expect_ok(s->get_user(a.id)).username == a.username);

    expect_ok(s->record_login(a.id, t0 + std::chrono::seconds(9)));
    CHECK(expect_ok(s->get_user(a.id)).last_login == t0 + std::chrono::seconds(9));
    expect_ok(s->set_user_active(a.id, false));
    CHECK_FALSE(expect_ok(s->get_user(a.id)).is_active);
    expect_error(s->update_user(make_user("ghost")), ErrorCode::not_found);
    expect_error(s->record_login(Uuid::generate(), t0), ErrorCode::not_found);
  }

  SECTION("users: delete removes their keys and messages") {
    User a = make_user("a", t0), b = make_user("b", t0);
    expect_ok(s->create_user(a));
    expect_ok(s->create_user(b));
    Message m1 = make_message(a.id, b.id, t0), m2 = make_message(b.id, a.id, t0);
    expect_ok(s->insert_message(m1));
    expect_ok(s->insert_message(m2));
    expect_ok(s->insert_key(make_key(a.id, t0)));
    expect_ok(s->delete_user(a.id));
    expect_error(s->get_user(a.id), ErrorCode::not_found);
    expect_error(s->get_message(m1.id), ErrorCode::not_found);
    expect_error(s->get_message(m2.id), ErrorCode::not_found);
    CHECK(expect_ok(s->keys_for_user(a.id)).empty());
    CHECK(expect_ok(s->get_user(b.id)) == b);
    expect_error(s->delete_user(a.id), ErrorCode::not_found);
  }

  SECTION("messages: binary content and fields round-trip; references are checked") {
    User a = make_user("a", t0), b = make_user("b", t0);
    expect_ok(s->create_user(a));
    expect_ok(s->create_user(b));
    Message m = make_message(a.id, b.id, t0);
    m.key_id = hostile_strings()[0];
    m.expires_at = t0 + std::chrono::hours(1);
    expect_ok(s->insert_message(m));
    CHECK(expect_ok(s->get_message(m.id)) == m);
    expect_error(s->insert_message(m), ErrorCode::already_exists);
    expect_error(s->insert_message(make_message(a.id, Uuid::generate(), t0)), ErrorCode::invalid_argument);
    expect_error(s->insert_message(make_message(Uuid::generate(), b.id, t0)), ErrorCode::invalid_argument);
    expect_error(s->get_message(Uuid::generate()), ErrorCode::not_found);
  }

  SECTION("messages: a batch is inserted whole or not at all") {
    User a = make_user("a", t0), b = make_user("b", t0);
    expect_ok(s->create_user(a));
    expect_ok(s->create_user(b));
    std::vector<Message> batch;
    for (int i = 0; i < 100; ++i) batch.push_back(make_message(a.id, b.id, t0 - std::chrono::seconds(i)));
    std::vector<Message> broken = batch;
    broken.push_back(make_message(a.id, Uuid::generate(), t0));
    CHECK_FALSE(s->insert_messages(broken).has_value());
    expect_error(s->get_message(batch.front().id), ErrorCode::not_found);
    expect_ok(s->insert_messages(batch));
    CHECK(detail::all_pages(*s, b.id, 1000).size() == batch.size());
    expect_ok(s->insert_messages(std::span<const Message>{}));
  }

  SECTION("inbox: newest first by (created_at, id), pages without gaps or repeats") {
    User a = make_user("a", t0), b = make_user("b", t0), c = make_user("c", t0);
    for (const auto* u : {&a, &b, &c}) expect_ok(s->create_user(*u));
    std::vector<Message> expected;
    for (int i = 0; i < 40; ++i) {
      // Groups of four share a timestamp, so ties must be broken by id.
      Message m = make_message(i % 2 ? a.id : c.id, b.id, t0 - std::chrono::seconds(i / 4));
      expected.push_back(m);
    }
    expect_ok(s->insert_messages(expected));
    expect_ok(s->insert_message(make_message(b.id, a.id, t0)));  // not in b's inbox
    std::sort(expected.begin(), expected.end(), detail::newest_first);
    for (std::size_t limit : {1u, 7u, 40u, 1000u}) {
      auto got = detail::all_pages(*s, b.id, limit);
      REQUIRE(got.size() == expected.size());
      for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i].id == expected[i].id);
    }
    auto first = expect_ok(s->inbox(b.id, PageRequest{40, std::nullopt}));
    CHECK_FALSE(first.next.has_value());
    CHECK(expect_ok(s->inbox(Uuid::generate(), PageRequest{})).items.empty());
    expect_error(s->inbox(b.id, PageRequest{0, std::nullopt}), ErrorCode::invalid_argument);
    expect_error(s->inbox(b.id, PageRequest{max_page_limit + 1, std::nullopt}), ErrorCode::invalid_argument);
  }

  SECTION("inbox: paging while another thread inserts newer messages") {
    if (!target.concurrent_writers) return;
    User a = make_user("a", t0), b = make_user("b", t0);
    expect_ok(s->create_user(a));
    expect_ok(s->create_user(b));
    std::vector<Message> initial;
    for (int i = 0; i < 300; ++i) initial.push_back(make_message(a.id, b.id, t0 - std::chrono::milliseconds(i)));
    expect_ok(s->insert_messages(initial));
    // Reader and writer take turns loosely: the writer stays at most ten
    // inserts ahead of the pages read, and the reader waits for at least one
    // insert per page, so inserts land while the pages are being read.
    std::atomic<bool> stop{false};
    std::atomic<int> written{0}, pages_read{0};
    detail::FailureLog insert_failures;
    std::thread writer([&] {
      for (int i = 1; i <= 300 && !stop; ++i) {
        while (pages_read * 10 < i && !stop) std::this_thread::yield();
        auto inserted = s->insert_message(make_message(a.id, b.id, t0 + std::chrono::milliseconds(i)));
        insert_failures.note(inserted);
        if (inserted) ++written;
      }
    });
    std::vector<Message> seen;
    PageRequest request{10, std::nullopt};
    for (int pages = 1;; ++pages) {
      auto page = s->inbox(b.id, request);
      REQUIRE(page.has_value());
      seen.insert(seen.end(), page->items.begin(), page->items.end());
      pages_read = pages;
      if (!page->next) break;
      request.after = page->next;
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (written < pages && written < 300 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    }
    stop = true;
    writer.join();
    INFO("first failed insert: " << insert_failures.first());
    CHECK(insert_failures.count() == 0);
    std::set<Uuid> ids;
    for (const auto& m : seen) CHECK(ids.insert(m.id).second);  // no repeats
    for (const auto& m : initial) CHECK(ids.contains(m.id));     // no gaps
    CHECK(std::is_sorted(seen.begin(), seen.end(), detail::newest_first));
    CHECK(written >= 29);  // one insert landed between each pair of pages
  }

  SECTION("conversation: both directions, nobody else's") {
    User a = make_user("a", t0), b = make_user("b", t0), c = make_user("c", t0);
    for (const auto* u : {&a, &b, &c}) expect_ok(s->create_user(*u));
    std::vector<Message> ab;
    for (int i = 0; i < 10; ++i)
      ab.push_back(make_message(i % 2 ? a.id : b.id, i % 2 ? b.id : a.id, t0 - std::chrono::seconds(i)));
    expect_ok(s->insert_messages(ab));
    expect_ok(s->insert_message(make_message(a.id, c.id, t0)));
    expect_ok(s->insert_message(make_message(c.id, b.id, t0)));
    std::sort(ab.begin(), ab.end(), detail::newest_first);
    for (auto [x, y] : {std::pair{a.id, b.id}, std::pair{b.id, a.id}}) {
      std::vector<Message> got;
      PageRequest request{3, std::nullopt};
      for (;;) {
        auto page = expect_ok(s->conversation(x, y, request));
        got.insert(got.end(), page.items.begin(), page.items.end());
        if (!page.next) break;
        request.after = page.next;
      }
      REQUIRE(got.size() == ab.size());
      for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i].id == ab[i].id);
    }
  }

  SECTION("mark read keeps the first time; soft delete and expiry hide from pages") {
    User a = make_user("a", t0), b = make_user("b", t0);
    expect_ok(s->create_user(a));
    expect_ok(s->create_user(b));
    Message kept = make_message(a.id, b.id, t0);
    Message deleted = make_message(a.id, b.id, t0 - std::chrono::seconds(1));
    Message expired = make_message(a.id, b.id, t0 - std::chrono::seconds(2));
    expired.expires_at = t0 - std::chrono::hours(1);
    Message later = make_message(a.id, b.id, t0 - std::chrono::seconds(3));
    later.expires_at = Timestamp::now() + std::chrono::hours(1);
    expect_ok(s->insert_messages(std::vector<Message>{kept, deleted, expired, later}));

    expect_ok(s->mark_read(kept.id, t0 + std::chrono::seconds(1)));
    expect_ok(s->mark_read(kept.id, t0 + std::chrono::seconds(2)));
    auto read = expect_ok(s->get_message(kept.id));
    CHECK(read.is_read);
    CHECK(read.read_at == t0 + std::chrono::seconds(1));
    CHECK_FALSE(expect_ok(s->get_message(later.id)).is_read);
    expect_error(s->mark_read(Uuid::generate(), t0), ErrorCode::not_found);

    expect_ok(s->soft_delete_message(deleted.id));
    CHECK(expect_ok(s->get_message(deleted.id)).is_deleted);
    expect_error(s->soft_delete_message(Uuid::generate()), ErrorCode::not_found);

    auto inbox = detail::all_pages(*s, b.id, 10);
    std::vector<Uuid> ids;
    for (const auto& m : inbox) ids.push_back(m.id);
    CHECK(ids == std::vector<Uuid>{kept.id, later.id});
    auto conversation = expect_ok(s->conversation(a.id, b.id, PageRequest{}));
    CHECK(conversation.items.size() == 2);
  }

  SECTION("purge_expired deletes exactly the expired messages and counts them") {
    User a = make_user("a", t0), b = make_user("b", t0);
    expect_ok(s->create_user(a));
    expect_ok(s->create_user(b));
    std::vector<Message> batch;
    for (int i = 0; i < 9; ++i) {
      Message m = make_message(a.id, b.id, t0 - std::chrono::seconds(i));
      if (i % 3 == 0) m.expires_at = t0 - std::chrono::minutes(i + 1);  // expired
      if (i % 3 == 1) m.expires_at = t0 + std::chrono::hours(1);        // not yet
      batch.push_back(m);
    }
    expect_ok(s->insert_messages(batch));
    // count_expired (SDK 1.6) counts what purge_expired would delete, deleting nothing.
    auto would_go = [&](Timestamp at) -> std::int64_t {
      auto n = s->count_expired(at);
      if (!target.count_expired) {
        CHECK(n.error().code == ErrorCode::unsupported);
        return -1;
      }
      return static_cast<std::int64_t>(expect_ok(std::move(n)));
    };
    CHECK(would_go(t0) == (target.count_expired ? 3 : -1));
    CHECK(would_go(t0) == (target.count_expired ? 3 : -1));
    CHECK(expect_ok(s->purge_expired(t0)) == 3);
    CHECK(would_go(t0) == (target.count_expired ? 0 : -1));
    CHECK(would_go(t0 + std::chrono::hours(2)) == (target.count_expired ? 3 : -1));
    for (int i = 0; i < 9; ++i) {
      auto got = s->get_message(batch[static_cast<std::size_t>(i)].id);
      CHECK(got.has_value() == (i % 3 != 0));
    }
    CHECK(expect_ok(s->purge_expired(t0)) == 0);
    CHECK(expect_ok(s->purge_expired(t0 + std::chrono::hours(2))) == 3);
  }

  SECTION("key rotation (SDK 1.1): list, count and compare-and-set replace by cipher key") {
    if (!target.key_rotation) {
      expect_error(s->count_messages_not_under_key("new"), ErrorCode::unsupported);
      expect_error(s->messages_not_under_key("new", PageRequest{3, std::nullopt}), ErrorCode::unsupported);
      expect_error(s->replace_message_content(Uuid::generate(), "old", Bytes{1}, Bytes{2}, "new"),
                   ErrorCode::unsupported);
      return;
    }
    User a = make_user("a", t0), b = make_user("b", t0);
    expect_ok(s->create_user(a));
    expect_ok(s->create_user(b));
    std::vector<Message> batch;
    for (int i = 0; i < 7; ++i) {
      Message m = make_message(a.id, b.id, t0 - std::chrono::seconds(i));
      m.key_id = i % 2 == 0 ? "old" : "new";
      if (i == 0) m.is_deleted = true;                               // rotation still covers it
      if (i == 2) m.expires_at = t0 - std::chrono::hours(1);         // and this one, until purged
      batch.push_back(m);
    }
    expect_ok(s->insert_messages(batch));
    CHECK(expect_ok(s->count_messages_not_under_key("new")) == 4);
    CHECK(expect_ok(s->count_messages_not_under_key("none")) == 7);

    std::vector<Uuid> listed;
    PageRequest request{3, std::nullopt};
    for (int guard = 0; guard < 10; ++guard) {
      auto page = expect_ok(s->messages_not_under_key("new", request));
      for (const auto& m : page.items) {
        CHECK(m.key_id == "old");
        listed.push_back(m.id);
      }
      if (!page.next) break;
      request.after = page.next;
    }
    CHECK(listed == std::vector<Uuid>{batch[0].id, batch[2].id, batch[4].id, batch[6].id});

    const Bytes content{1, 2, 3}, iv{4, 5, 6};
    CHECK(expect_ok(s->replace_message_content(batch[4].id, "old", content, iv, "new")));
    Message replaced = expect_ok(s->get_message(batch[4].id));
    CHECK(replaced.encrypted_content == content);
    CHECK(replaced.iv == iv);
    CHECK(replaced.key_id == "new");
    CHECK(replaced.created_at == batch[4].created_at);
    // Someone else already rewrapped it: the second writer loses, nothing changes.
    CHECK_FALSE(expect_ok(s->replace_message_content(batch[4].id, "old", Bytes{9}, Bytes{9}, "other")));
    CHECK(expect_ok(s->get_message(batch[4].id)) == replaced);
    CHECK(expect_ok(s->count_messages_not_under_key("new")) == 3);
    expect_error(s->replace_message_content(Uuid::generate(), "old", content, iv, "new"), ErrorCode::not_found);
    expect_error(s->messages_not_under_key("new", PageRequest{0, std::nullopt}), ErrorCode::invalid_argument);
  }

  SECTION("moving from the seed (SDK 1.7): rows per key, the seed's rows, batch compare-and-set, rehash at login") {
    User a = make_user("a", t0), b = make_user("b", t0);
    expect_ok(s->create_user(a));
    expect_ok(s->create_user(b));
    if (!target.seed_adoption) {
      expect_error(s->count_messages_by_key(), ErrorCode::unsupported);
      expect_error(s->messages_under_key("", PageRequest{}), ErrorCode::unsupported);
      expect_error(s->replace_message_contents({}, {}), ErrorCode::unsupported);
      expect_error(s->record_login_rehashed(a.id, t0, a.password_hash, "x"), ErrorCode::unsupported);
      return;
    }
    std::vector<Message> batch;
    for (int i = 0; i < 7; ++i) {
      Message m = make_message(a.id, b.id, t0 - std::chrono::seconds(i));
      m.key_id = i < 5 ? "" : "k";  // five rows the seed wrote, two of Strata's
      batch.push_back(m);
    }
    expect_ok(s->insert_messages(batch));
    auto counts = expect_ok(s->count_messages_by_key());
    REQUIRE(counts.size() == 2);
    CHECK((counts[0].key_id == "" && counts[0].messages == 5));
    CHECK((counts[1].key_id == "k" && counts[1].messages == 2));
    std::vector<Uuid> listed;
    PageRequest request{2, std::nullopt};
    for (int guard = 0; guard < 10; ++guard) {
      auto page = expect_ok(s->messages_under_key("", request));
      for (const auto& m : page.items) listed.push_back(m.id);
      if (!page.next) break;
      request.after = page.next;
    }
    CHECK(listed == std::vector<Uuid>{batch[0].id, batch[1].id, batch[2].id, batch[3].id, batch[4].id});

    // Rows 0 and 1 are replaced; an unknown id and a row whose key id moved on are not.
    const Bytes content{1, 2, 3}, iv{4, 5, 6};
    std::vector<ContentReplacement> rows{{batch[0].id, "", content, iv, "k"},
                                         {batch[1].id, "", content, iv, "k"},
                                         {Uuid::generate(), "", content, iv, "k"},
                                         {batch[2].id, "other", content, iv, "k"}};
    std::vector<AuditEvent> events;
    if (target.outbox)
      for (int i = 0; i < 4; ++i) events.push_back(make_event(t0, "message.adopt", a.id.str()));
    CHECK(expect_ok(s->replace_message_contents(rows, events)) == std::vector<bool>{true, true, false, false});
    Message converted = expect_ok(s->get_message(batch[0].id));
    CHECK(converted.encrypted_content == content);
    CHECK(converted.iv == iv);
    CHECK(converted.key_id == "k");
    CHECK(expect_ok(s->get_message(batch[2].id)) == batch[2]);
    if (target.outbox) CHECK(expect_ok(s->outbox_size()) == 2);  // only the replaced rows' events
    CHECK(expect_ok(s->replace_message_contents(std::span(rows).first(1), {})) == std::vector<bool>{false});
    if (target.outbox)  // one event per row, or none
      expect_error(s->replace_message_contents(rows, std::span(events).first(1)), ErrorCode::invalid_argument);

    // last_login always; the hash only while it is still the one verified.
    const Timestamp t1 = t0 + std::chrono::seconds(1), t2 = t0 + std::chrono::seconds(2);
    CHECK(expect_ok(s->record_login_rehashed(a.id, t1, a.password_hash, "$scrypt$new")));
    User upgraded = expect_ok(s->get_user(a.id));
    CHECK(upgraded.password_hash == "$scrypt$new");
    CHECK(upgraded.last_login == t1);
    CHECK(upgraded.updated_at == t1);
    CHECK_FALSE(expect_ok(s->record_login_rehashed(a.id, t2, a.password_hash, "$scrypt$newer")));
    User kept = expect_ok(s->get_user(a.id));
    CHECK(kept.password_hash == "$scrypt$new");
    CHECK(kept.last_login == t2);
    expect_error(s->record_login_rehashed(Uuid::generate(), t1, "x", "y"), ErrorCode::not_found);
  }

  SECTION("backup (SDK 1.2): a fresh instance restored from a backup holds the same rows") {
    User a = make_user("a", t0), b = make_user("b", t0);
    expect_ok(s->create_user(a));
    expect_ok(s->create_user(b));
    std::vector<Message> messages;
    for (int i = 0; i < 5; ++i) messages.push_back(make_message(a.id, b.id, t0 - std::chrono::seconds(i)));
    messages[1].is_deleted = true;
    messages[2].expires_at = t0 + std::chrono::hours(1);
    messages[3].is_read = true;
    messages[3].read_at = t0;
    messages[4].is_read = true;  // read by a seed client, which keeps no time
    expect_ok(s->insert_messages(messages));
    KeyRecord key = make_key(a.id, t0);
    expect_ok(s->insert_key(key));
    ScratchDir dir;
    auto report = s->backup(dir.path());
    if (!detail::declared_backup(target.backup, report)) return;
    CHECK_FALSE(report->files.empty());
    for (const auto& file : report->files) CHECK(std::filesystem::exists(dir.path() / file));
    CHECK(expect_ok(s->has_data()));

    auto restored = target.fresh();
    CHECK_FALSE(expect_ok(restored->has_data()));
    auto back = restored->restore(dir.path());
    INFO((back ? std::string() : back.error().describe()));
    REQUIRE(back);
    CHECK(expect_ok(restored->has_data()));
    CHECK(expect_ok(restored->get_user(a.id)) == a);
    CHECK(expect_ok(restored->get_user(b.id)) == b);
    for (const auto& m : messages) CHECK(expect_ok(restored->get_message(m.id)) == m);
    CHECK(expect_ok(restored->get_key(key.id)) == key);
  }

  SECTION("key records (SDK 1.3): concurrent rotations leave exactly one active key") {
    User a = make_user("a", t0);
    expect_ok(s->create_user(a));
    if (!target.key_rotation) {
      expect_error(s->replace_active_key(make_key(a.id, t0)), ErrorCode::unsupported);
      return;
    }
    expect_ok(s->insert_key(make_key(a.id, t0 - std::chrono::hours(1))));
    std::vector<std::thread> rotators;
    detail::FailureLog failures;
    for (int t = 0; t < 8; ++t)
      rotators.emplace_back([&, t] {
        for (int i = 0; i < 5; ++i)
          failures.note(s->replace_active_key(make_key(a.id, t0 + std::chrono::milliseconds(t * 10 + i))));
      });
    for (auto& r : rotators) r.join();
    INFO("first failure: " << failures.first());
    CHECK(failures.count() == 0);
    auto keys = expect_ok(s->keys_for_user(a.id));
    CHECK(keys.size() == 41);
    CHECK(std::count_if(keys.begin(), keys.end(), [](const KeyRecord& k) { return k.is_active; }) == 1);
    expect_error(s->replace_active_key(make_key(Uuid::generate(), t0)), ErrorCode::invalid_argument);
  }

  SECTION("key records (SDK 1.4): every key listed by keyset, wrapping replaced by compare-and-set") {
    if (!target.key_rotation) {
      expect_error(s->all_keys(PageRequest{2, std::nullopt}), ErrorCode::unsupported);
      expect_error(s->replace_key_wrapping(Uuid::generate(), Bytes{1}, Bytes{2}), ErrorCode::unsupported);
      return;
    }
    User a = make_user("a", t0), b = make_user("b", t0);
    expect_ok(s->create_user(a));
    expect_ok(s->create_user(b));
    std::vector<KeyRecord> keys;
    for (int i = 0; i < 5; ++i) {
      keys.push_back(make_key(i % 2 ? a.id : b.id, t0 - std::chrono::minutes(i)));
      if (i == 3) keys.back().is_active = false;  // inactive keys are re-wrapped too
      expect_ok(s->insert_key(keys.back()));
    }
    std::vector<Uuid> listed;
    PageRequest request{2, std::nullopt};
    for (int guard = 0; guard < 10; ++guard) {
      auto page = expect_ok(s->all_keys(request));
      for (const auto& k : page.items) listed.push_back(k.id);
      if (!page.next) break;
      request.after = page.next;
    }
    std::vector<Uuid> expected;
    for (const auto& k : keys) expected.push_back(k.id);  // made newest first
    CHECK(listed == expected);

    const Bytes rewrapped{7, 7, 7};
    CHECK(expect_ok(s->replace_key_wrapping(keys[3].id, keys[3].private_key_encrypted, rewrapped)));
    KeyRecord replaced = expect_ok(s->get_key(keys[3].id));
    CHECK(replaced.private_key_encrypted == rewrapped);
    replaced.private_key_encrypted = keys[3].private_key_encrypted;
    CHECK(replaced == keys[3]);  // nothing else changed
    // Someone else already re-wrapped it: the second writer loses, nothing changes.
    CHECK_FALSE(expect_ok(s->replace_key_wrapping(keys[3].id, keys[3].private_key_encrypted, Bytes{9})));
    CHECK(expect_ok(s->get_key(keys[3].id)).private_key_encrypted == rewrapped);
    expect_error(s->replace_key_wrapping(Uuid::generate(), rewrapped, Bytes{9}), ErrorCode::not_found);
    expect_error(s->all_keys(PageRequest{0, std::nullopt}), ErrorCode::invalid_argument);
  }

  SECTION("checked sends (SDK 1.8): stored only when every sender and recipient exists and is active") {
    if (!target.checked_sends) {
      expect_error(s->insert_sends({}, {}), ErrorCode::unsupported);
      return;
    }
    User a = make_user("a", t0), b = make_user("b", t0), gone = make_user("gone", t0);
    expect_ok(s->create_user(a));
    expect_ok(s->create_user(b));
    expect_ok(s->create_user(gone));
    expect_ok(s->set_user_active(gone.id, false));
    expect_ok(s->insert_sends({}, {}));  // nothing to store: how the services ask whether it exists
    std::vector<Message> fine{make_message(a.id, b.id, t0), make_message(b.id, a.id, t0 - std::chrono::seconds(1))};
    expect_ok(s->insert_sends(fine, {}));
    for (const auto& m : fine) CHECK(expect_ok(s->get_message(m.id)) == m);
    // One message of a batch from or to a deactivated or unknown user: none is stored.
    const Uuid nobody = Uuid::generate();
    struct Case {
      Message bad;
      std::string says;
    };
    for (const auto& c : {Case{make_message(gone.id, a.id, t0), "is deactivated"},
                          Case{make_message(a.id, gone.id, t0), "is deactivated"},
                          Case{make_message(a.id, nobody, t0), "no user with id " + nobody.str()},
                          Case{make_message(nobody, a.id, t0), "no user with id " + nobody.str()}}) {
      std::vector<Message> batch{make_message(a.id, b.id, t0), c.bad};
      auto refused = s->insert_sends(batch, {});
      REQUIRE_FALSE(refused);
      CHECK(refused.error().code == ErrorCode::invalid_argument);
      INFO("refusal: " << refused.error().message);
      CHECK(refused.error().message.find(c.says) != std::string::npos);
      for (const auto& m : batch) expect_error(s->get_message(m.id), ErrorCode::not_found);
    }
    // Reactivated, the same user may send again; its events ride along as with insert_with_outbox.
    expect_ok(s->set_user_active(gone.id, true));
    Message back = make_message(gone.id, a.id, t0);
    if (target.outbox) {
      AuditEvent event = make_event(t0, "message.send", std::nullopt);
      std::uint64_t before = expect_ok(s->outbox_size());
      expect_ok(s->insert_sends(std::span(&back, 1), std::span(&event, 1)));
      CHECK(expect_ok(s->outbox_size()) == before + 1);
    } else {
      expect_ok(s->insert_sends(std::span(&back, 1), {}));
    }
    CHECK(expect_ok(s->get_message(back.id)) == back);
  }

  SECTION("session revocations (SDK 1.9): the latest per subject, asked over several subjects") {
    const std::vector<std::string> none;
    if (!target.session_revocations) {
      expect_error(s->sessions_revoked_before(none), ErrorCode::unsupported);
      return;
    }
    const std::string user = "user:" + Uuid::generate().str(), token = "token:" + std::string(64, 'a');
    const std::vector<std::string> both{user, token, "all"};
    CHECK_FALSE(expect_ok(s->sessions_revoked_before(both)).has_value());
    CHECK_FALSE(expect_ok(s->sessions_revoked_before(none)).has_value());
    const Timestamp later = t0 + std::chrono::hours(1), much_later = t0 + std::chrono::hours(48);
    // Microseconds survive: a session made a microsecond after a revocation is not covered by it.
    const Timestamp revoked = Timestamp::from_micros(t0.micros() + 123);
    expect_ok(s->revoke_sessions(user, revoked, later));
    CHECK(expect_ok(s->sessions_revoked_before(both)) == revoked);
    CHECK(expect_ok(s->sessions_revoked_before(std::vector<std::string>{user})) == revoked);
    CHECK_FALSE(expect_ok(s->sessions_revoked_before(std::vector<std::string>{token})).has_value());
    // The latest of several subjects' records; a subject revoked again keeps the later time,
    // whatever order the two revocations arrive in.
    expect_ok(s->revoke_sessions(token, t0 + std::chrono::seconds(5), later));
    CHECK(expect_ok(s->sessions_revoked_before(both)) == t0 + std::chrono::seconds(5));
    expect_ok(s->revoke_sessions(user, t0 + std::chrono::seconds(9), later));
    expect_ok(s->revoke_sessions(user, t0, later));
    CHECK(expect_ok(s->sessions_revoked_before(std::vector<std::string>{user})) == t0 + std::chrono::seconds(9));
    // Hostile subject text is data, not syntax.
    const std::string odd = "user:'); DROP TABLE users; --\n\x01";
    expect_ok(s->revoke_sessions(odd, t0, later));
    CHECK(expect_ok(s->sessions_revoked_before(std::vector<std::string>{odd})) == t0);
    // A revocation recorded at a later clock (records whose keep_until it passed may go meanwhile).
    expect_ok(s->revoke_sessions("all", much_later, much_later + std::chrono::hours(1)));
    CHECK(expect_ok(s->sessions_revoked_before(std::vector<std::string>{"all"})) == much_later);
    CHECK(expect_ok(s->sessions_revoked_before(both)) == much_later);
  }

  SECTION("audit outbox sinks (SDK 1.9): events are relayed only for the sink they were written for") {
    if (!target.outbox) return;  // without an outbox, nothing to assign
    auto drained = [&](std::vector<std::string>& actions) {
      return expect_ok(s->drain_outbox(100, [&](std::span<const AuditEvent> events) -> Result<void> {
        for (const auto& e : events) actions.push_back(e.action);
        return {};
      }));
    };
    // Written before any sink was set (an older host): every sink relays it.
    AuditEvent legacy = make_event(t0, "legacy", std::nullopt);
    expect_ok(s->insert_with_outbox({}, std::span(&legacy, 1)));
    expect_ok(s->set_outbox_sink("file:/var/lib/strata/audit.jsonl"));
    std::vector<AuditEvent> deployment{make_event(t0, "deployment", std::nullopt),
                                       make_event(t0 + std::chrono::milliseconds(1), "deployment", std::nullopt)};
    expect_ok(s->insert_with_outbox({}, deployment));
    CHECK(expect_ok(s->outbox_size()) == 3);
    // Another sink on the same storage sees, counts and takes none of them.
    expect_ok(s->set_outbox_sink("memory"));
    AuditEvent other = make_event(t0 + std::chrono::seconds(1), "other", std::nullopt);
    expect_ok(s->insert_with_outbox({}, std::span(&other, 1)));
    CHECK(expect_ok(s->outbox_size()) == 2);  // its own and the legacy one
    CHECK(expect_ok(s->outbox_oldest()) == t0);
    std::vector<std::string> taken;
    CHECK(drained(taken) == 2);
    CHECK(taken == std::vector<std::string>{"legacy", "other"});
    CHECK(expect_ok(s->outbox_size()) == 0);
    // The deployment's events waited for their own sink, and are all there.
    expect_ok(s->set_outbox_sink("file:/var/lib/strata/audit.jsonl"));
    CHECK(expect_ok(s->outbox_size()) == 2);
    taken.clear();
    CHECK(drained(taken) == 2);
    CHECK(taken == std::vector<std::string>{"deployment", "deployment"});
    CHECK(expect_ok(s->outbox_size()) == 0);
  }

  SECTION("audit outbox (SDK 1.5): rows and events commit together, drain in order, stay when delivery fails") {
    if (!target.outbox) {
      expect_error(s->outbox_size(), ErrorCode::unsupported);
      expect_error(s->insert_with_outbox({}, {}), ErrorCode::unsupported);
      return;
    }
    User a = make_user("a", t0), b = make_user("b", t0);
    expect_ok(s->create_user(a));
    expect_ok(s->create_user(b));
    CHECK(expect_ok(s->outbox_size()) == 0);
    // One message with its event (the common single send), then a batch,
    // then events alone (a failed login has no row of its own).
    Message lone = make_message(a.id, b.id, t0);
    std::vector<AuditEvent> events;
    for (int i = 0; i < 7; ++i)
      events.push_back(make_event(t0 + std::chrono::milliseconds(i), "message.send", i % 2 ? std::optional<std::string>("u")
                                                                                           : std::nullopt));
    events[3].status = AuditStatus::failure;
    events[4].metadata = R"({"text":"\u00e9 \"quoted\" \\ \u0000"})";  // escapes survive the round trip
    expect_ok(s->insert_with_outbox(std::span(&lone, 1), std::span(events).subspan(0, 1)));
    std::vector<Message> batch{make_message(a.id, b.id, t0 - std::chrono::seconds(1)),
                               make_message(b.id, a.id, t0 - std::chrono::seconds(2))};
    expect_ok(s->insert_with_outbox(batch, std::span(events).subspan(1, 2)));
    expect_ok(s->insert_with_outbox({}, std::span(events).subspan(3, 1)));
    expect_ok(s->insert_with_outbox({}, std::span(events).subspan(4, 3)));
    expect_ok(s->get_message(lone.id));
    expect_ok(s->get_message(batch[1].id));
    CHECK(expect_ok(s->outbox_size()) == 7);

    // Both or neither: a bad message (no such recipient) leaves no event behind.
    std::vector<Message> broken{make_message(a.id, b.id, t0), make_message(a.id, Uuid::generate(), t0)};
    std::vector<AuditEvent> orphan{make_event(t0, "message.send", "u")};
    CHECK_FALSE(s->insert_with_outbox(broken, orphan).has_value());
    CHECK_FALSE(s->insert_with_outbox(std::span(broken).subspan(1, 1), orphan).has_value());
    expect_error(s->get_message(broken[0].id), ErrorCode::not_found);
    CHECK(expect_ok(s->outbox_size()) == 7);

    // A failed delivery leaves everything; a good one hands over in order and removes.
    auto refused = s->drain_outbox(100, [](std::span<const AuditEvent>) -> Result<void> {
      return fail(ErrorCode::unavailable, "the sink is down");
    });
    CHECK_FALSE(refused.has_value());
    CHECK(expect_ok(s->outbox_size()) == 7);
    std::vector<AuditEvent> delivered;
    auto take = [&](std::span<const AuditEvent> got) -> Result<void> {
      delivered.insert(delivered.end(), got.begin(), got.end());
      return {};
    };
    // Limits that end inside a committed batch (a storage that keeps a
    // batch's events together hands over its front and keeps the rest).
    CHECK(expect_ok(s->drain_outbox(2, take)) == 2);
    CHECK(expect_ok(s->outbox_size()) == 5);
    CHECK(expect_ok(s->drain_outbox(3, take)) == 3);
    CHECK(expect_ok(s->outbox_size()) == 2);
    CHECK(expect_ok(s->drain_outbox(4, take)) == 2);
    CHECK(expect_ok(s->drain_outbox(4, take)) == 0);
    CHECK(delivered == events);  // exactly, in commit order
    CHECK(expect_ok(s->outbox_size()) == 0);

    // Two relays at once never hand over the same event.
    std::vector<AuditEvent> many;
    for (int i = 0; i < 200; ++i) many.push_back(make_event(t0, "user.login", "u"));
    for (std::size_t i = 0; i < many.size(); i += 10)
      expect_ok(s->insert_with_outbox({}, std::span(many).subspan(i, 10)));
    std::mutex seen_mutex;
    std::vector<Uuid> seen;
    detail::FailureLog errors;
    std::vector<std::thread> relays;
    for (int r = 0; r < 2; ++r)
      relays.emplace_back([&] {
        for (int guard = 0; guard < 1000; ++guard) {
          auto n = s->drain_outbox(16, [&](std::span<const AuditEvent> got) -> Result<void> {
            std::lock_guard lock(seen_mutex);
            for (const auto& e : got) seen.push_back(e.id);
            return {};
          });
          errors.note(n);
          if (!n || *n == 0) break;
        }
      });
    for (auto& r : relays) r.join();
    // A relay that found nothing free may stop early; the rest is still there.
    expect_ok(s->drain_outbox(1000, [&](std::span<const AuditEvent> got) -> Result<void> {
      for (const auto& e : got) seen.push_back(e.id);
      return {};
    }));
    INFO("first failure: " << errors.first());
    CHECK(errors.count() == 0);
    CHECK(seen.size() == many.size());
    CHECK(std::set<Uuid>(seen.begin(), seen.end()).size() == many.size());
  }

  detail::run_inbox_sequence_sections(target.inbox_sequence, target.concurrent_writers, target.backup, target.fresh,
                                      s, t0);
  detail::run_data_key_sections(target.data_keys, target.backup, target.fresh, s, t0);

  SECTION("key records: stored exactly, newest first, deactivated, user checked") {
    User a = make_user("a", t0);
    expect_ok(s->create_user(a));
    KeyRecord older = make_key(a.id, t0 - std::chrono::hours(1));
    KeyRecord newer = make_key(a.id, t0);
    newer.expires_at = t0 + std::chrono::hours(24 * 90);
    expect_ok(s->insert_key(older));
    expect_ok(s->insert_key(newer));
    CHECK(expect_ok(s->get_key(newer.id)) == newer);
    auto keys = expect_ok(s->keys_for_user(a.id));
    REQUIRE(keys.size() == 2);
    CHECK(keys[0] == newer);
    CHECK(keys[1] == older);
    expect_ok(s->deactivate_key(older.id));
    CHECK_FALSE(expect_ok(s->get_key(older.id)).is_active);
    expect_error(s->insert_key(newer), ErrorCode::already_exists);
    expect_error(s->insert_key(make_key(Uuid::generate(), t0)), ErrorCode::invalid_argument);
    expect_error(s->get_key(Uuid::generate()), ErrorCode::not_found);
    expect_error(s->deactivate_key(Uuid::generate()), ErrorCode::not_found);
  }
}

}  // namespace strata::sdk::testing

/// Declares the storage conformance test case for one plugin configuration.
#define STRATA_STORAGE_CONFORMANCE(LABEL, ...)                              \
  TEST_CASE("storage conformance: " LABEL, "[conformance][storage]") {      \
    ::strata::sdk::testing::run_storage_conformance(__VA_ARGS__);           \
  }
