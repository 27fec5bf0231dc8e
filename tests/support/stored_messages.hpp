#pragma once
// What the concurrency and crash tests count: the messages a storage holds
// and the `message.send` audit events per message.

#include <catch2/catch.hpp>

#include <map>
#include <vector>

#include "service_env.hpp"

namespace strata::test {

/// Every live message in `user`'s inbox, newest first, by keyset pages.
inline std::vector<sdk::Uuid> inbox_ids(sdk::Storage& storage, const sdk::Uuid& user) {
  std::vector<sdk::Uuid> ids;
  sdk::PageRequest request{sdk::max_page_limit, std::nullopt};
  for (;;) {
    auto page = storage.inbox(user, request);
    REQUIRE(page);
    for (const auto& m : page->items) ids.push_back(m.id);
    if (!page->next) return ids;
    request.after = page->next;
  }
}

/// How many `message.send` events the sink holds per message id, once every
/// event recorded so far (the outbox included) reached it.
inline std::map<sdk::Uuid, int> send_events_by_message(ServiceEnv& env, std::size_t at_most) {
  env.settle_audit();
  sdk::AuditQuery q;
  q.action = "message.send";
  q.limit = at_most;
  auto events = env.host().audit()->query(q);
  REQUIRE(events);
  std::map<sdk::Uuid, int> count;
  for (const auto& e : *events) {
    auto id = sdk::Uuid::parse(e.resource.substr(e.resource.find(':') + 1));
    REQUIRE(id);
    ++count[*id];
  }
  return count;
}

}  // namespace strata::test
