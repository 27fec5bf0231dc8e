#pragma once
// strata::Services: what an application embedding Strata calls. Built on a
// Host, it owns the audit pipeline, the scheduler and the services:
//
//   auto host = strata::Host::open_file("strata.toml");
//   strata::Services::migrate(**host);  // a new or upgraded database
//   auto services = strata::Services::open(**host);
//   auto alice = (*services)->users().register_user("alice", "alice@example.org", password, {});
//
// The Host must outlive the Services.

#include "strata/export.hpp"
#include <memory>

#include "strata/host.hpp"
#include "strata/services/audit_log.hpp"
#include "strata/services/backup.hpp"
#include "strata/services/context.hpp"
#include "strata/services/erasure.hpp"
#include "strata/services/keys.hpp"
#include "strata/services/maintenance.hpp"
#include "strata/services/message_adoption.hpp"
#include "strata/services/messages.hpp"
#include "strata/services/sessions.hpp"
#include "strata/services/users.hpp"

namespace strata {

struct ServicesOptions {
  /// Run the audit flusher's partner, the scheduler (purge, metrics) in a
  /// background thread. The CLI's one-shot commands turn it off.
  bool background = true;
};

class STRATA_API Services {
 public:
  /// `invalid_argument` when the config lacks [storage]. Without a [cipher],
  /// messages and keys answer `invalid_argument` saying so; the rest works.
  /// A storage whose schema is older than this build's (a new or not yet
  /// upgraded database) is refused here, once, with `invalid_argument`
  /// (not retryable) saying to call migrate(): never a retryable
  /// `unavailable` on every call.
  static sdk::Result<std::unique_ptr<Services>> open(const Host& host, ServicesOptions options = {});
  /// Brings the host's storage to the newest schema this build has, as
  /// `strata migrate up` does: a database the seed's own SQL made is adopted
  /// as a baseline, and one that differs from it is refused with every
  /// difference listed, changing nothing. Safe to call from several
  /// processes at once (they take turns) and when already up to date. Call
  /// it before open() on a new or upgraded database. Returns the new status.
  static sdk::Result<sdk::SchemaStatus> migrate(const Host& host);
  /// Stops the scheduler (writing metrics a last time), then flushes the audit queue.
  ~Services();
  Services(const Services&) = delete;
  Services& operator=(const Services&) = delete;

  Users& users() { return users_; }
  Messages& messages() { return messages_; }
  Keys& keys() { return keys_; }
  Sessions& sessions() { return sessions_; }
  /// Erasing users for good (crypto-shredding): strata/services/erasure.hpp.
  Erasure& erasure() { return erasure_; }
  AuditLog& audit() { return *context_.audit; }
  /// The ledger sealing the sink's events; null without a sink or with [audit] ledger = false.
  const std::shared_ptr<AuditLedger>& audit_ledger() const { return context_.ledger; }
  Maintenance& maintenance() { return *maintenance_; }
  const ServiceContext& context() const { return context_; }

  /// Backs up every storage, cache and audit instance of the host (see
  /// strata/services/backup.hpp) and records `backup.create`. When that event
  /// cannot be recorded, the call fails, naming the backup it wrote.
  sdk::Result<BackupResult> backup(const BackupOptions& options, const Origin& origin = {});
  /// Restores a backup into the host's instances (verified first) and records
  /// `backup.restore`; fails when that event cannot be recorded. A host with
  /// a cipher restores only a manifest it authenticates (`auth_failed`
  /// otherwise: forged, edited, stripped of its MAC, or taken without a
  /// cipher); a host without one restores only unauthenticated backups.
  /// Restores exclude each other (a lock beside the audit spool, in the data
  /// directory); one cut off is completed by restoring the same backup again,
  /// without --force (restore_state.hpp).
  sdk::Result<RestoreResult> restore(const std::filesystem::path& dir, bool force, const Origin& origin = {});
  /// Converts the messages the seed's services wrote into Strata's envelope
  /// (strata/services/message_adoption.hpp): resumable, each row at most once.
  sdk::Result<AdoptionReport> adopt_seed_messages(const AdoptionOptions& options,
                                                  const std::function<void(const AdoptionReport&)>& progress = {},
                                                  const Origin& origin = {}) {
    return strata::adopt_seed_messages(context_, options, progress, origin);
  }

 private:
  Services(const Host& host, ServiceContext context, ServicesOptions options);

  const Host& host_;
  ServiceContext context_;
  Sessions sessions_;
  Users users_;
  Keys keys_;
  Messages messages_;
  Erasure erasure_;
  std::unique_ptr<Maintenance> maintenance_;
};

}  // namespace strata
