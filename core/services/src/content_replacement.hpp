#pragma once
// Re-sealing stored messages a page at a time: what `adopt messages` and
// `keys rewrap` both do after sealing a page anew.

#include <span>
#include <vector>

#include "strata/sdk/storage.hpp"

namespace strata::detail {

/// Replaces `rows` (compare-and-set on each row's expected key id) with their
/// `events` in one transaction: Storage::replace_message_contents (SDK 1.7).
/// On an older storage plugin, row by row with replace_message_content, and
/// `events` is then cleared: the caller records them itself. Per row: true
/// when replaced, false when its key id had changed or the row is gone.
sdk::Result<std::vector<bool>> replace_contents(sdk::Storage& storage, std::span<const sdk::ContentReplacement> rows,
                                                std::vector<sdk::AuditEvent>& events);

}  // namespace strata::detail
