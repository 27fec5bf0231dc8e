#pragma once
// AuditLedger: makes the audit trail tamper-evident.
//
// Every event a sink stores becomes a leaf of an append-only Merkle tree
// (RFC 9162 hashing) kept in a directory outside the sink ([audit]
// ledger_dir: by default <data dir>/audit-ledger-<plugin>-<sink id>/), and
// at most every checkpoint_interval_ms (or checkpoint_every leaves) the
// ledger signs a checkpoint of the tree, (origin, size, root), with an
// Ed25519 key of its own, as a C2SP signed note. Each checkpoint is written
// to the ledger directory and also to the sink, as a metric sample
// (strata_audit_checkpoint), so that it adds no event to the trail it signs.
//
// verify() reads the whole sink and the ledger and names every event that
// was edited (its content no longer hashes to its leaf), dropped (a leaf
// with no event), or inserted (an event in the sink with no leaf), and a
// ledger whose leaves no longer match its signed checkpoints (edited,
// reordered or cut short). Someone with write access to the sink's database
// can change events, but cannot make them match the ledger's leaves; someone
// who also changes the ledger cannot sign a checkpoint for the result
// without the key. prove() gives the inclusion proof of one event and
// consistency() the proof that a later checkpoint extends an earlier one,
// both checkable by any RFC 9162 verifier with the verifier key.
//
// One ledger per directory: processes sharing a data directory share it
// (appends are serialised by a lock on the leaves file). What it does not
// cover is in core/README.md ("A tamper-evident audit trail").

#include "strata/export.hpp"
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "strata/sdk/audit.hpp"
#include "strata/sdk/clock.hpp"
#include "strata/sdk/log.hpp"
#include "strata/settings.hpp"

namespace strata {

/// One thing verify() found wrong.
struct LedgerProblem {
  /// "edited", "dropped", "inserted", "ledger_altered", "ledger_cut",
  /// "checkpoint_invalid", "ledger_unreadable".
  std::string kind;
  std::string detail;  ///< one sentence naming the event (id, leaf index, time) or the checkpoint
};

/// What verify() found.
struct LedgerReport {
  std::string origin;
  std::uint64_t leaves = 0;            ///< leaves in the ledger
  std::uint64_t checkpoints = 0;       ///< signed checkpoints that verified, in the ledger and in the sink
  std::uint64_t checkpoint_size = 0;   ///< the size the newest checkpoint signs
  std::uint64_t events = 0;            ///< events read from the sink
  std::uint64_t predating = 0;         ///< events older than the ledger (not covered)
  std::uint64_t redelivered = 0;       ///< leaves repeating an earlier leaf (a hand-over retried after a crash)
  std::uint64_t expired = 0;           ///< sealed events older than `since` that the sink no longer holds
  std::uint64_t problem_count = 0;
  std::vector<LedgerProblem> problems;  ///< the first 100, in ledger order
  bool ok() const { return problem_count == 0; }
};

/// An inclusion proof of one event (RFC 9162 2.1.3).
struct InclusionProof {
  std::string event_id;
  std::uint64_t index = 0;
  std::uint64_t tree_size = 0;
  std::string leaf_hash;             ///< hex
  std::string root;                  ///< hex, the checkpoint's
  std::vector<std::string> hashes;   ///< hex, leaf to root
  std::string checkpoint;            ///< the signed note whose tree the proof is in
};

/// A consistency proof between two tree sizes (RFC 9162 2.1.4).
struct ConsistencyProof {
  std::uint64_t old_size = 0, new_size = 0;
  std::string old_root, new_root;    ///< hex
  std::vector<std::string> hashes;   ///< hex
};

class STRATA_API AuditLedger {
 public:
  /// Opens (creating it, its key and its origin on first use) the ledger in
  /// settings.dir. `sink`, when given, also receives each checkpoint as an
  /// "audit.checkpoint" event. `unavailable` when the directory cannot be written.
  static sdk::Result<std::shared_ptr<AuditLedger>> open(AuditLedgerSettings settings,
                                                        std::shared_ptr<const sdk::Clock> clock, sdk::Logger log,
                                                        std::shared_ptr<sdk::Audit> sink = nullptr);
  ~AuditLedger();
  AuditLedger(const AuditLedger&) = delete;
  AuditLedger& operator=(const AuditLedger&) = delete;

  /// Seals events the sink has stored: appends their leaves (durable on
  /// return), and signs a checkpoint when one is due.
  sdk::Result<void> seal(std::span<const sdk::AuditEvent> events);
  /// Signs a checkpoint now if leaves were sealed since the last one.
  sdk::Result<void> checkpoint();

  /// Checks the sink's events against the ledger (see the top of this file).
  /// `since`: the sink keeps events from then on (its retention); a sealed
  /// event older than that which it no longer holds is counted as expired,
  /// not dropped.
  sdk::Result<LedgerReport> verify(sdk::Audit& sink, std::optional<sdk::Timestamp> since = std::nullopt) const;
  /// The inclusion proof of an event in the newest checkpoint's tree.
  sdk::Result<InclusionProof> prove(const sdk::Uuid& event) const;
  /// The proof that the tree of `new_size` leaves extends that of `old_size`.
  sdk::Result<ConsistencyProof> consistency(std::uint64_t old_size, std::uint64_t new_size) const;

  /// The ledger's name in its checkpoints, "strata.audit/<host>/<id>".
  const std::string& origin() const;
  /// The key that verifies its checkpoints: "<origin>+<key id>+<base64 key>".
  std::string verifier_key() const;
  /// The newest signed checkpoint (empty before the first).
  sdk::Result<std::string> latest_checkpoint() const;
  const AuditLedgerSettings& settings() const;

  /// The bytes an event's leaf hashes (RFC 9162 leaf input): its fields in a
  /// canonical JSON array, the time in milliseconds (what every sink keeps),
  /// the metadata re-serialised with sorted keys.
  static std::string leaf_input(const sdk::AuditEvent& event);
  /// The metric samples that carry the checkpoints' copies in the sink
  /// (value: the size; labels: origin, note).
  static constexpr std::string_view checkpoint_metric = "strata_audit_checkpoint";

 private:
  struct State;
  explicit AuditLedger(std::unique_ptr<State> state);
  void run_timer();
  std::unique_ptr<State> state_;
  std::mutex timer_mutex_;
  std::condition_variable timer_wake_;
  bool stopping_ = false;
  std::thread timer_;  // signs a checkpoint when leaves have waited checkpoint_interval
};

/// An audit sink whose every stored event is sealed into a ledger: the
/// services wrap the configured sink in it when [audit] ledger is on.
class STRATA_API LedgeredAudit final : public sdk::Audit {
 public:
  LedgeredAudit(std::shared_ptr<sdk::Audit> sink, std::shared_ptr<AuditLedger> ledger);
  ~LedgeredAudit() override;
  sdk::Result<void> health() override { return sink_->health(); }
  sdk::Result<void> append(std::span<const sdk::AuditEvent> events) override;
  sdk::Result<void> append_metrics(std::span<const sdk::Metric> metrics) override {
    return sink_->append_metrics(metrics);
  }
  sdk::Result<std::vector<sdk::AuditEvent>> query(const sdk::AuditQuery& q) override { return sink_->query(q); }
  sdk::Result<std::uint64_t> count(const sdk::AuditQuery& q) override { return sink_->count(q); }
  sdk::Result<std::vector<sdk::Metric>> query_metrics(const sdk::MetricQuery& q) override {
    return sink_->query_metrics(q);
  }
  sdk::Result<std::string> sink_identity() override { return sink_->sink_identity(); }
  const std::shared_ptr<AuditLedger>& ledger() const { return ledger_; }

 private:
  std::shared_ptr<sdk::Audit> sink_;
  std::shared_ptr<AuditLedger> ledger_;
};

}  // namespace strata
