// Services: wiring the services to a Host's role instances.

#include "strata/services.hpp"

#include "strata/services/audit_ledger.hpp"

#include "erasure/data_keys.hpp"
#include "group_commit.hpp"
#include "key_check.hpp"
#include "missing_cipher.hpp"

namespace strata {
namespace {

// Where the host's audit events end up (the sink's SDK 1.9 sink_identity);
// a sink plugin without it is known only by its name.
sdk::Result<std::string> audit_sink_identity(const Host& host) {
  auto identity = host.audit()->sink_identity();
  if (identity || identity.error().code != sdk::ErrorCode::unsupported) return identity;
  for (const auto& info : host.instances())
    if (info.role == sdk::Role::audit) return "plugin:" + info.plugin;
  return std::string("plugin:?");
}

}  // namespace

sdk::Result<std::unique_ptr<Services>> Services::open(const Host& host, ServicesOptions options) {
  ServiceContext c;
  c.storage = host.storage();
  if (!c.storage)
    return sdk::fail(sdk::ErrorCode::invalid_argument, "the services need a [storage] in the config; this one has none");
  // An older schema is said once, here, with what to do about it.
  if (auto status = c.storage->schema_status(); status && status->current < status->latest)
    return sdk::fail(sdk::ErrorCode::invalid_argument,
                     "the storage's schema is at version " + std::to_string(status->current) + " and this build needs " +
                         std::to_string(status->latest) +
                         ": call strata::Services::migrate(host) before opening the services, or run `strata "
                         "migrate up`");
  c.cipher = host.cipher();
  if (!c.cipher) c.cipher = std::make_shared<detail::MissingCipher>();
  // A wrong key is refused here, before anything is sealed under it.
  else if (auto opens = detail::check_cipher_opens_storage(*c.storage, *c.cipher); !opens)
    return sdk::fail(opens.error());
  auto settings = read_service_settings(host);
  if (!settings) return sdk::fail(settings.error());
  c.settings = std::move(*settings);
  if (c.settings.erasure.per_user_keys) {
    if (!host.cipher())
      return sdk::fail(sdk::ErrorCode::invalid_argument,
                       "[erasure] per_user_keys needs a [cipher]: data keys are stored wrapped by it");
    // A storage without data keys (SDK 1.11) could seal nothing: said here, not at the first send.
    if (auto probe = c.storage->get_data_key(sdk::Uuid::generate());
        !probe && probe.error().code == sdk::ErrorCode::unsupported)
      return sdk::fail(sdk::ErrorCode::invalid_argument,
                       "[erasure] per_user_keys is on, but the storage plugin keeps no data keys (SDK 1.11): "
                       "turn it off or use a storage that has them (every bundled one)");
  }
  c.clock = host.clock();
  c.data_keys = std::make_shared<DataKeys>(c.storage, c.cipher, c.clock, c.settings.erasure);
  c.cache = host.cache("default");
  c.sessions = host.cache("session") ? host.cache("session") : c.cache;
  c.metrics = host.metrics();
  c.tracer = host.tracer();
  c.log = host.log();
  // The transactional outbox: when the storage has one (SDK 1.5, migrated),
  // there is a sink to relay to, and the policy lets an event wait for it.
  bool outbox =
      host.audit() && c.settings.audit.outbox && c.settings.audit.on_failure != AuditFailurePolicy::block;
  if (outbox) {
    // A storage without one says so (unsupported): events then take the
    // sink's own way. Any other failure is the storage not answering now.
    // Opening without the outbox then would leave every send's event outside
    // the send's transaction for this process's whole life, lost if it dies
    // between the two (a chaos round's process, opened during a PostgreSQL
    // failover and killed later, lost them), so the open fails instead.
    auto probe = c.storage->outbox_size();
    if (!probe && probe.error().code != sdk::ErrorCode::unsupported)
      return sdk::fail(probe.error().code,
                       "cannot tell whether the storage keeps the audit outbox: " + probe.error().describe());
    outbox = probe.has_value();
  }
  if (outbox) {
    // The outbox's events are for this sink only: another process on the
    // same storage with another [audit] must not relay them into its own.
    auto identity = audit_sink_identity(host);
    if (!identity) return sdk::fail(identity.error().code, "the audit sink cannot say where its events go: " +
                                                                identity.error().describe());
    auto claimed = c.storage->set_outbox_sink(*identity);
    if (!claimed && claimed.error().code != sdk::ErrorCode::unsupported) return sdk::fail(claimed.error());
  }
  c.writes = std::make_shared<GroupCommit>(c.storage, c.settings.group_commit, outbox, *c.metrics);
  AuditOutbox audit_outbox;
  if (outbox) audit_outbox = AuditOutbox{c.storage, c.writes};
  // Every event the sink stores is sealed into the ledger (tamper-evident
  // trail), whichever way it gets there: flusher, spool replay, outbox relay.
  std::shared_ptr<sdk::Audit> sink = host.audit();
  if (sink && c.settings.audit.ledger.enabled) {
    auto ledger = AuditLedger::open(c.settings.audit.ledger, c.clock, c.log, sink);
    if (!ledger) return sdk::fail(ledger.error());
    c.ledger = *ledger;
    sink = std::make_shared<LedgeredAudit>(sink, c.ledger);
  }
  c.audit = std::make_shared<AuditLog>(sink, c.settings.audit, c.clock, c.metrics, c.log, std::move(audit_outbox),
                                       c.data_keys);
  return std::unique_ptr<Services>(new Services(host, std::move(c), options));
}

sdk::Result<sdk::SchemaStatus> Services::migrate(const Host& host) {
  auto storage = host.storage();
  if (!storage)
    return sdk::fail(sdk::ErrorCode::invalid_argument, "the services need a [storage] in the config; this one has none");
  auto status = storage->schema_status();
  if (!status || status->current >= status->latest) return status;
  // What would be done first: a database that differs from what the
  // migrations expect is refused whole, before anything changes.
  if (auto plan = storage->plan_migration(status->latest); plan && !plan->differences.empty()) {
    std::string why;
    for (const auto& difference : plan->differences) why += "\n  " + difference;
    return sdk::fail(sdk::ErrorCode::conflict, "the storage's schema cannot be migrated; nothing was changed:" + why);
  } else if (!plan && plan.error().code != sdk::ErrorCode::unsupported) {
    return sdk::fail(plan.error());
  }
  return storage->migrate(status->latest);
}

Services::Services(const Host& host, ServiceContext context, ServicesOptions options)
    : host_(host),
      context_(std::move(context)),
      sessions_(context_),
      users_(context_, &sessions_),
      keys_(context_, users_),
      messages_(context_, users_),
      erasure_(context_, users_),
      maintenance_(std::make_unique<Maintenance>(context_, options.background)) {}

Services::~Services() {
  // Audit first: writing the last events moves strata_audit_events_total,
  // which the maintenance's final metrics flush then stores (a CLI process
  // once ended with those counts never written).
  context_.writes->flush();  // asynchronous sends finish (and record their events) first
  context_.audit->flush();
  // What this process sealed is signed before it ends (a CLI command's events
  // are then covered by a checkpoint at once, not a second later).
  if (context_.ledger)
    if (auto signed_now = context_.ledger->checkpoint(); !signed_now)
      context_.log(sdk::LogLevel::warning, "audit ledger: " + signed_now.error().describe());
  maintenance_.reset();
}

}  // namespace strata
