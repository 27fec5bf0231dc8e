#pragma once
// The checkers a chaos round ends with, over the storage, the audit sink and
// what the clients saw (the faults lifted, the audit pipeline drained):
//   - every acknowledged send is stored exactly once and readable, with
//     exactly one audit event; a send whose outcome was unknown is stored
//     at most once; no message nobody sent; no event without its row; no
//     message in an inbox but its recipient's;
//   - each recipient's sequence numbers run 1..head without gaps or repeats;
//   - a session whose revoke succeeded is never valid again (the clients
//     check as they go);
//   - every user has exactly one active key;
//   - isolation: list_append_check.hpp over the reads by sequence and the
//     final lists.

#include <string>
#include <vector>

#include "history.hpp"
#include "strata/host.hpp"
#include "strata/services.hpp"

namespace strata::chaos {

/// Every violation found, one line each; empty when every check holds.
std::vector<std::string> check(Host& host, Services& services, const std::vector<sdk::User>& users,
                               History& history);

}  // namespace strata::chaos
