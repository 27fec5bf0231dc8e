#pragma once
// One chaos client: a seeded mix of operations against the services —
// sends, reads by sequence, sessions created, revoked and checked (a
// revoked one, or one past its expiry by the host's clock, must not be
// valid), keys rotated, inbox pages — each recorded in the round's History.

#include <cstdint>
#include <string>
#include <vector>

#include "history.hpp"
#include "strata/services.hpp"

namespace strata::chaos {

/// Runs `ops` operations as client `thread` of the round `seed` (the draws
/// are seeded by both; interleavings with other clients are not).
void run_client(Services& services, const sdk::Clock& clock, const std::vector<sdk::User>& users,
                std::uint64_t seed, int thread, int ops, History& history);

/// What a read by sequence shows of an inbox: its texts in sequence order
/// (one that does not open by its id, which no send appended, so the
/// isolation check names it).
std::vector<std::string> list_of(const InboxUpdate& update);

}  // namespace strata::chaos
