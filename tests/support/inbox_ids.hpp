#pragma once
// The ids in a user's inbox, read through the storage's own keyset pages.

#include <catch2/catch.hpp>

#include <vector>

#include "strata/sdk/storage.hpp"

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

}  // namespace strata::test
