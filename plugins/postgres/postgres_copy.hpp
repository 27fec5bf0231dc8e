#pragma once
// PostgreSQL's binary COPY format for message rows (the batch insert path).

#include <span>
#include <string>

#include "strata/sdk/storage.hpp"

namespace strata::postgres {

/// The COPY statement matching encode_messages().
inline constexpr const char* copy_messages_sql =
    "COPY messages (id, sender_id, recipient_id, encrypted_content, iv, created_at, expires_at, is_read, is_deleted, "
    "key_id, read_at) FROM STDIN (FORMAT binary)";

/// Header, one tuple per message, trailer. Fails (invalid_argument) on a key
/// id containing NUL, which PostgreSQL text cannot hold.
sdk::Result<std::string> encode_messages(std::span<const sdk::Message> messages);

}  // namespace strata::postgres
