#include "content_replacement.hpp"

namespace strata::detail {

sdk::Result<std::vector<bool>> replace_contents(sdk::Storage& storage, std::span<const sdk::ContentReplacement> rows,
                                                std::vector<sdk::AuditEvent>& events) {
  if (rows.empty()) return std::vector<bool>{};
  auto replaced = storage.replace_message_contents(rows, events);
  if (replaced || replaced.error().code != sdk::ErrorCode::unsupported) return replaced;
  // A storage plugin older than SDK 1.7 in this one respect: row by row.
  std::vector<bool> one_by_one;
  one_by_one.reserve(rows.size());
  for (const auto& row : rows) {
    auto r = storage.replace_message_content(row.id, row.expected_key_id, row.encrypted_content, row.iv, row.key_id);
    if (!r && r.error().code != sdk::ErrorCode::not_found) return sdk::fail(r.error());
    one_by_one.push_back(r && *r);
  }
  events.clear();
  return one_by_one;
}

}  // namespace strata::detail
