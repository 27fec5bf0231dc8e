#pragma once
// Adopting the seed's messages: rows its DatabaseEncryption.encrypt wrote
// (AES-GCM with the tag dropped, no associated data, no key id) cannot be
// authenticated, so Strata refuses to show them. An operator who accepts
// that converts them once: each is decrypted with the seed's key (GCM's
// counter mode, unauthenticated) and re-sealed in place with Strata's
// envelope (tag, associated data = id ‖ sender ‖ recipient, key id), by
// compare-and-set on its empty key id, so a row is converted at most once,
// a row Strata wrote is never touched, and a killed run resumes where it stopped.

#include "strata/export.hpp"
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "strata/services/context.hpp"

namespace strata {

struct AdoptionOptions {
  /// Must be true: the operator's word that the seed's unauthenticated
  /// ciphertexts are to be trusted as they are (`--accept-unauthenticated`).
  bool accept_unauthenticated = false;
  std::size_t batch_size = 500;  ///< rows per page and per transaction (1..1000)
};

/// What one run did; converted + refused + raced = seed_rows.
struct AdoptionReport {
  std::string key_id;                ///< the cipher key the rows were re-sealed under
  std::uint64_t seed_rows = 0;       ///< rows without a key id when the run started
  std::uint64_t already_strata = 0;  ///< rows under a key id (written or converted by Strata) at the start
  std::uint64_t converted = 0;       ///< re-sealed by this run
  std::uint64_t raced = 0;           ///< converted by another process meanwhile
  std::uint64_t refused = 0;         ///< left as they are (see `reasons`)
  std::map<std::string, std::uint64_t> reasons;  ///< why rows were refused, with counts
};

/// Converts every message the seed wrote (see above), `options.batch_size`
/// at a time, calling `progress` after each batch. Each converted row is
/// audited (`message.adopt`, marked unauthenticated), in the transaction that
/// converts it when the storage has an audit outbox; the run ends with one
/// `messages.adopt` event holding the counts. Needs a storage and a cipher of
/// SDK 1.7 (`open_untagged`); `invalid_argument` without the operator's word.
STRATA_API sdk::Result<AdoptionReport> adopt_seed_messages(const ServiceContext& ctx, const AdoptionOptions& options,
                                                           const std::function<void(const AdoptionReport&)>& progress,
                                                           const Origin& origin);

}  // namespace strata
