#pragma once
// strata::Services: what an application embedding Strata calls. Built on a
// Host, it owns the audit pipeline, the scheduler and the five services:
//
//   auto host = strata::Host::open_file("strata.toml");
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
  static sdk::Result<std::unique_ptr<Services>> open(const Host& host, ServicesOptions options = {});
  /// Stops the scheduler (writing metrics a last time), then flushes the audit queue.
  ~Services();
  Services(const Services&) = delete;
  Services& operator=(const Services&) = delete;

  Users& users() { return users_; }
  Messages& messages() { return messages_; }
  Keys& keys() { return keys_; }
  Sessions& sessions() { return sessions_; }
  AuditLog& audit() { return *context_.audit; }
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
  std::unique_ptr<Maintenance> maintenance_;
};

}  // namespace strata
