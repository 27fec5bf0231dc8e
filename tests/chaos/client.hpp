#pragma once
// One chaos client: a seeded mix of operations against the services —
// sends, reads by sequence, sessions created, revoked and checked (a
// revoked one, or one past its expiry by the host's clock, must not be
// valid), keys rotated, inbox pages — each recorded in the round's History.

#include <cstdint>
#include <string>
#include <vector>

#include <chrono>
#include <filesystem>

#include "history.hpp"
#include "strata/services.hpp"

namespace strata::chaos {

/// The clocks a client reads.
struct ClientClocks {
  const sdk::Clock& host;
  /// The one the session store expires entries by: the host's for the
  /// in-process memory cache, the server's own for Redis (a step of the
  /// host's clock does not move a TTL running on the server).
  const sdk::Clock& store;
  std::chrono::seconds session_ttl;  ///< [sessions] ttl_s
};

/// Runs `ops` operations as client `thread` of the round `seed` (the draws
/// are seeded by both; interleavings with other clients are not). With
/// `backups` set, one operation in fifty is a backup into a directory of the
/// client's own under it, verified and recorded for the restore check.
void run_client(Services& services, const ClientClocks& clocks, const std::vector<sdk::User>& users,
                std::uint64_t seed, int thread, int ops, const std::filesystem::path& backups,
                History& history);

/// What a read by sequence shows of an inbox: its texts in sequence order
/// (one that does not open by its id, which no send appended, so the
/// isolation check names it).
std::vector<std::string> list_of(const InboxUpdate& update);

}  // namespace strata::chaos
