#pragma once
// What the concurrency and crash tests count: the messages a storage holds
// and the `message.send` audit events per message.

#include <catch2/catch.hpp>

#include <map>
#include <vector>

#include "inbox_ids.hpp"
#include "service_env.hpp"

namespace strata::test {

/// How many `message.send` events the sink holds per message id, once every
/// event recorded so far (the outbox included) reached it. Read newest first
/// in windows of 5000 (a sink answers one huge query slowly, or not at all):
/// each next window ends a millisecond after the oldest event of the last
/// (MongoDB keeps milliseconds), and the overlap is told apart by event id.
inline std::map<sdk::Uuid, int> send_events_by_message(ServiceEnv& env, std::size_t at_most) {
  env.settle_audit();
  std::map<sdk::Uuid, std::string> resource_by_event;
  sdk::AuditQuery q;
  q.action = "message.send";
  q.limit = 5000;
  for (std::size_t guard = 0; guard <= at_most / 2500 + 1; ++guard) {
    auto events = env.host().audit()->query(q);
    INFO((events ? std::string() : events.error().describe()));
    REQUIRE(events);
    for (const auto& e : *events) resource_by_event.emplace(e.id, e.resource);
    if (events->size() < q.limit) break;
    auto oldest = events->back().timestamp;
    REQUIRE((!q.to || oldest + std::chrono::milliseconds(1) < *q.to));  // the window moves
    q.to = oldest + std::chrono::milliseconds(1);
  }
  std::map<sdk::Uuid, int> count;
  for (const auto& [event, resource] : resource_by_event) {
    auto id = sdk::Uuid::parse(resource.substr(resource.find(':') + 1));
    REQUIRE(id);
    ++count[*id];
  }
  return count;
}

}  // namespace strata::test
