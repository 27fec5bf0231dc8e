#pragma once
// The storage kit's sections on the per-recipient sequence (SDK 1.10):
// inbox_since and inbox_heads. Included by storage_kit.hpp; run with it.

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "strata/sdk/sdk.hpp"
#include "strata/sdk/testing/catch.hpp"
#include "strata/sdk/testing/expect.hpp"
#include "strata/sdk/testing/fixtures.hpp"

namespace strata::sdk::testing::detail {

// The whole of a recipient's sequence after `after`, page by page.
inline std::vector<SequencedMessage> whole_sequence(Storage& s, const Uuid& recipient, std::uint64_t after = 0) {
  std::vector<SequencedMessage> out;
  for (int guard = 0; guard < 100000; ++guard) {
    auto page = expect_ok(s.inbox_since(recipient, after, 100));
    if (page.items.empty()) break;
    out.insert(out.end(), page.items.begin(), page.items.end());
    after = page.items.back().seq;
  }
  return out;
}

// The numbers of a sequence, in the order read.
inline std::vector<std::uint64_t> numbers(const std::vector<SequencedMessage>& items) {
  std::vector<std::uint64_t> out;
  for (const auto& item : items) out.push_back(item.seq);
  return out;
}

inline std::vector<std::uint64_t> one_to(std::uint64_t n) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = 1; i <= n; ++i) out.push_back(i);
  return out;
}

/// `inbox_sequence`: whether the target declared the capability (StorageTarget::inbox_sequence).
inline void run_inbox_sequence_sections(bool inbox_sequence, bool concurrent_writers, bool backup,
                                        const std::function<std::shared_ptr<Storage>()>& fresh,
                                        const std::shared_ptr<Storage>& s, Timestamp t0) {
  SECTION("inbox sequence (SDK 1.10): numbers 1, 2, 3 … per recipient in the order stored, every path") {
    if (!inbox_sequence) {
      expect_error(s->inbox_since(Uuid::generate(), 0, 10), ErrorCode::unsupported);
      expect_error(s->inbox_heads({}), ErrorCode::unsupported);
      return;
    }
    User a = make_user("a", t0), b = make_user("b", t0), c = make_user("c", t0);
    for (const auto& u : {a, b, c}) expect_ok(s->create_user(u));
    auto empty = expect_ok(s->inbox_since(b.id, 0, 10));
    CHECK_FALSE(empty.epoch.empty());
    CHECK(empty.head == 0);
    CHECK(empty.items.empty());
    // Stored one by one and in batches that mix recipients, created_at out of
    // order on purpose: the number follows the order stored, not the time.
    std::vector<Message> to_b, to_c;
    auto add = [&](const Message& m) { (m.recipient_id == b.id ? to_b : to_c).push_back(m); };
    Message first = make_message(a.id, b.id, t0 + std::chrono::seconds(5));
    expect_ok(s->insert_message(first));
    add(first);
    std::vector<Message> batch;
    for (int i = 0; i < 6; ++i) batch.push_back(make_message(a.id, i % 2 ? c.id : b.id, t0 - std::chrono::seconds(i)));
    expect_ok(s->insert_messages(batch));
    for (const auto& m : batch) add(m);
    Message deleted = make_message(c.id, b.id, t0), expired = make_message(c.id, b.id, t0);
    deleted.is_deleted = true;
    expired.expires_at = t0 - std::chrono::seconds(1);
    expect_ok(s->insert_message(deleted));
    expect_ok(s->insert_message(expired));
    add(deleted);
    add(expired);
    for (const auto& [recipient, sent] : {std::pair{b.id, to_b}, std::pair{c.id, to_c}}) {
      auto all = whole_sequence(*s, recipient);
      CHECK(numbers(all) == one_to(sent.size()));
      std::vector<Message> read;
      for (const auto& item : all) read.push_back(item.message);
      CHECK(read == sent);  // every row, deleted and expired ones too
    }
    // Paging: after a number, at most `limit`, with the epoch and the head.
    auto page = expect_ok(s->inbox_since(b.id, 2, 2));
    CHECK(numbers(page.items) == std::vector<std::uint64_t>{3, 4});
    CHECK(page.head == to_b.size());
    CHECK(page.epoch == empty.epoch);
    CHECK(expect_ok(s->inbox_since(b.id, to_b.size(), 10)).items.empty());
    expect_error(s->inbox_since(b.id, 0, 0), ErrorCode::invalid_argument);
    expect_error(s->inbox_since(b.id, 0, max_page_limit + 1), ErrorCode::invalid_argument);
    // Heads for several recipients at once, in the order asked; none yet is 0.
    std::vector<Uuid> asked{c.id, Uuid::generate(), b.id, a.id};
    auto heads = expect_ok(s->inbox_heads(asked));
    CHECK(heads.epoch == empty.epoch);
    CHECK(heads.heads == std::vector<std::uint64_t>{to_c.size(), 0, to_b.size(), 0});
    CHECK(expect_ok(s->inbox_heads({})).epoch == empty.epoch);
    // A failed batch takes no numbers: the next message gets the next one.
    std::vector<Message> broken{make_message(a.id, b.id, t0), make_message(a.id, Uuid::generate(), t0)};
    CHECK_FALSE(s->insert_messages(broken).has_value());
    Message after_failure = make_message(a.id, b.id, t0);
    expect_ok(s->insert_message(after_failure));
    auto tail = expect_ok(s->inbox_since(b.id, to_b.size(), 10));
    REQUIRE(tail.items.size() == 1);
    CHECK(tail.items[0].seq == to_b.size() + 1);
    CHECK(tail.items[0].message == after_failure);
  }

  SECTION("inbox sequence (SDK 1.10): a removed row leaves its number missing, never reused") {
    if (!inbox_sequence) return;
    User a = make_user("a", t0), b = make_user("b", t0);
    expect_ok(s->create_user(a));
    expect_ok(s->create_user(b));
    std::vector<Message> sent;
    for (int i = 0; i < 4; ++i) sent.push_back(make_message(a.id, b.id, t0));
    sent[1].expires_at = t0 - std::chrono::seconds(1);
    expect_ok(s->insert_messages(sent));
    CHECK(expect_ok(s->purge_expired(t0)) == 1);
    CHECK(numbers(whole_sequence(*s, b.id)) == std::vector<std::uint64_t>{1, 3, 4});
    expect_ok(s->insert_message(make_message(a.id, b.id, t0)));
    CHECK(numbers(whole_sequence(*s, b.id)) == std::vector<std::uint64_t>{1, 3, 4, 5});
    CHECK(expect_ok(s->inbox_since(b.id, 0, 10)).head == 5);
  }

  SECTION("inbox sequence (SDK 1.10): concurrent writers, and a reader never passes a number not yet committed") {
    if (!inbox_sequence || !concurrent_writers) return;
    User b = make_user("b", t0);
    expect_ok(s->create_user(b));
    constexpr int writers = 4, each = 40;
    std::vector<User> senders;
    for (int w = 0; w < writers; ++w) {
      senders.push_back(make_user("w" + std::to_string(w), t0));
      expect_ok(s->create_user(senders.back()));
    }
    // The reader follows the sequence as a subscriber would: it only ever
    // moves past numbers it has read, so a number that showed up before a
    // lower one committed would be skipped for good, and seen as a hole here.
    std::atomic<bool> writing{true};
    std::atomic<int> holes{0};
    std::set<Uuid> followed;
    std::thread reader([&] {
      std::uint64_t cursor = 0;
      while (true) {
        bool last_round = !writing.load();
        auto page = s->inbox_since(b.id, cursor, 50);
        if (!page) break;
        for (const auto& item : page->items) {
          if (item.seq != cursor + 1) ++holes;
          cursor = item.seq;
          followed.insert(item.message.id);
        }
        if (last_round && page->items.empty()) break;
      }
    });
    std::vector<std::thread> threads;
    std::vector<std::vector<Message>> by_writer(writers);
    for (int w = 0; w < writers; ++w)
      threads.emplace_back([&, w] {
        for (int i = 0; i < each; ++i) {
          // Alternate single rows and pairs in one transaction.
          std::vector<Message> rows{make_message(senders[w].id, b.id, t0)};
          if (i % 2) rows.push_back(make_message(senders[w].id, b.id, t0));
          if (s->insert_messages(rows)) by_writer[w].insert(by_writer[w].end(), rows.begin(), rows.end());
        }
      });
    for (auto& t : threads) t.join();
    writing = false;
    reader.join();
    std::size_t stored = 0;
    for (const auto& rows : by_writer) stored += rows.size();
    CHECK(stored == writers * each * 3 / 2);
    auto all = whole_sequence(*s, b.id);
    CHECK(numbers(all) == one_to(stored));
    CHECK(holes.load() == 0);
    CHECK(followed.size() == stored);
    // Each writer's rows keep their order within the recipient's sequence.
    std::map<Uuid, std::uint64_t> position;
    for (const auto& item : all) position[item.message.id] = item.seq;
    for (const auto& rows : by_writer)
      for (std::size_t i = 1; i < rows.size(); ++i) CHECK(position[rows[i - 1].id] < position[rows[i].id]);
  }

  SECTION("inbox sequence (SDK 1.10): a restored backup is a new epoch") {
    if (!inbox_sequence || !backup) return;
    User a = make_user("a", t0), b = make_user("b", t0);
    expect_ok(s->create_user(a));
    expect_ok(s->create_user(b));
    expect_ok(s->insert_message(make_message(a.id, b.id, t0)));
    auto before = expect_ok(s->inbox_since(b.id, 0, 10));
    ScratchDir dir;
    expect_ok(s->backup(dir.path()));
    expect_ok(s->insert_message(make_message(a.id, b.id, t0)));
    auto restored = fresh();
    expect_ok(restored->restore(dir.path()));
    auto after = expect_ok(restored->inbox_since(b.id, 0, 10));
    CHECK(after.epoch != before.epoch);
    CHECK(after.head == 1);
    CHECK(numbers(after.items) == std::vector<std::uint64_t>{1});
    // Restored over itself too: the same instance moves to a new epoch.
    expect_ok(s->restore(dir.path()));
    auto again = expect_ok(s->inbox_since(b.id, 0, 10));
    CHECK(again.epoch != before.epoch);
    CHECK(again.head == 1);
  }
}

}  // namespace strata::sdk::testing::detail
