#pragma once
// A recipient's whole stream, as Messages::since reads it from the start.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "strata/services.hpp"

namespace strata::test {

/// Every visible message of `recipient` in sequence order, read from the start.
inline std::vector<sdk::Uuid> whole_stream(Messages& messages, const sdk::Uuid& recipient) {
  std::vector<sdk::Uuid> out;
  InboxCursor cursor;
  for (;;) {
    auto update = messages.since(recipient, cursor, 1000, Origin{});
    INFO((update ? std::string() : update.error().describe()));
    REQUIRE(update);
    REQUIRE_FALSE(update->gap);
    for (const auto& entry : update->entries) out.push_back(entry.envelope.id);
    if (update->next == cursor) return out;
    cursor = update->next;
  }
}

}  // namespace strata::test
