#include "checks.hpp"

#include <map>
#include <set>

#include <fmt/format.h>

#include "client.hpp"

namespace strata::chaos {

std::vector<std::string> check(Host& host, Services& services, const std::vector<sdk::User>& users,
                               History& history) {
  std::vector<std::string> violations = history.violations;
  std::map<std::string, std::vector<sdk::Uuid>> stored;  // text -> ids
  std::set<sdk::Uuid> stored_ids;
  for (const auto& user : users) {
    std::optional<sdk::Cursor> after;
    for (;;) {
      auto page = services.messages().inbox(user.id, sdk::PageRequest{sdk::max_page_limit, after}, Origin{});
      if (!page) {
        violations.push_back("reading an inbox after the faults: " + page.error().describe());
        break;
      }
      for (const auto& entry : page->items) {
        if (entry.envelope.recipient_id != user.id)
          violations.push_back("message " + entry.envelope.id.str() + " in " + user.username +
                               "'s inbox is addressed to someone else");
        if (!entry.text) {
          violations.push_back("message " + entry.envelope.id.str() + " unreadable: " + entry.text.error().describe());
          continue;
        }
        stored[*entry.text].push_back(entry.envelope.id);
        stored_ids.insert(entry.envelope.id);
      }
      if (!page->next) break;
      after = page->next;
    }
    // The per-recipient sequence: 1..head, one number per stored message.
    std::uint64_t next = 1, head = 0;
    for (bool more = true; more;) {
      auto stream = host.storage()->inbox_since(user.id, next - 1, sdk::max_page_limit);
      if (!stream) {
        violations.push_back("inbox_since: " + stream.error().describe());
        break;
      }
      head = stream->head;
      for (const auto& item : stream->items)
        if (item.seq != next++) {
          violations.push_back(fmt::format("recipient {}: sequence number {} where {} was due", user.username,
                                           item.seq, next - 1));
          more = false;
          break;
        }
      if (stream->items.empty()) more = false;
    }
    if (head != next - 1)
      violations.push_back(fmt::format("recipient {}: head {} but {} numbered messages", user.username, head,
                                       next - 1));
    // Exactly one active key.
    auto keys = services.keys().all(user.id);
    int active = 0;
    if (keys)
      for (const auto& k : *keys) active += k.is_active;
    if (!keys || active != 1)
      violations.push_back(fmt::format("user {} has {} active keys", user.username, keys ? active : -1));
  }
  for (const auto& [text, id] : history.acked) {
    auto found = stored.find(text);
    std::size_t n = found == stored.end() ? 0 : found->second.size();
    if (n != 1) violations.push_back(fmt::format("acknowledged send '{}' stored {} times", text, n));
    else if (found->second.front() != id)
      violations.push_back(fmt::format("acknowledged send '{}' stored under another id", text));
  }
  for (const auto& text : history.unknown)
    if (stored.contains(text) && stored[text].size() > 1)
      violations.push_back(fmt::format("send '{}' (outcome unknown) stored {} times", text, stored[text].size()));
  for (const auto& [text, ids] : stored)
    if (!history.tried.contains(text)) violations.push_back("a message nobody sent: '" + text + "'");

  // The audit trail: one message.send event per stored message, none for a message not stored.
  std::map<std::string, int> events;
  std::optional<sdk::Timestamp> before;
  for (;;) {
    sdk::AuditQuery query;
    query.action = "message.send";
    query.limit = 10000;
    query.to = before;
    auto page = host.audit()->query(query);
    if (!page) {
      violations.push_back("reading the audit trail: " + page.error().describe());
      break;
    }
    for (const auto& e : *page) ++events[e.resource];
    if (page->size() < query.limit) break;
    before = page->back().timestamp;  // exclusive: events at that very millisecond may repeat; fine for counting ids
  }
  for (const auto& id : stored_ids) {
    int n = events["message:" + id.str()];
    if (n != 1) violations.push_back(fmt::format("message {} has {} message.send events", id.str(), n));
  }
  for (const auto& [resource, n] : events)
    if (!stored_ids.contains(sdk::Uuid::parse(resource.substr(8)).value_or(sdk::Uuid{})))
      violations.push_back("an audit event for a message that is not stored: " + resource);

  // Isolation, over every read by sequence and the final lists.
  std::map<std::string, std::vector<std::string>> final_lists;
  for (const auto& user : users) {
    auto& list = final_lists[user.username];
    for (InboxCursor cursor;;) {
      auto update = services.messages().since(user.id, cursor, sdk::max_page_limit, Origin{});
      if (!update || update->gap) {
        violations.push_back("reading " + user.username + "'s inbox by sequence: " +
                             (update ? std::string("a gap") : update.error().describe()));
        break;
      }
      if (update->entries.empty()) break;
      auto page = list_of(*update);
      list.insert(list.end(), page.begin(), page.end());
      cursor = update->next;
    }
  }
  for (auto& anomaly : check_list_append(history.list_ops, final_lists))
    violations.push_back("isolation: " + anomaly);
  return violations;
}

}  // namespace strata::chaos
