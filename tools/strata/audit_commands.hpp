#pragma once
// `strata audit verify|prove|consistency|checkpoint|key`: the tamper-evident
// trail (strata/services/audit_ledger.hpp). Each returns the exit code.

#include <cstdint>
#include <string>

#include "strata/host.hpp"

namespace strata::cli {

/// Checks every event in the sink against the ledger; 0 when nothing was
/// edited, dropped or inserted and the ledger matches its signed checkpoints.
/// `since` (ISO 8601): the sink keeps events from then on (its retention).
int audit_verify(const Host& host, const std::string& since);
/// Prints the inclusion proof of one event (JSON) in the newest checkpoint.
int audit_prove(const Host& host, const std::string& event_id);
/// Prints the consistency proof (JSON) between two tree sizes.
int audit_consistency(const Host& host, std::uint64_t old_size, std::uint64_t new_size);
/// Signs a checkpoint of everything sealed so far and prints it.
int audit_checkpoint(const Host& host);
/// Prints the key that verifies the ledger's checkpoints.
int audit_key(const Host& host);

}  // namespace strata::cli
