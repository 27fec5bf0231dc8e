#pragma once
// What every service is built from: the role instances it calls, the audit
// pipeline, the clock and the settings. Services::open fills it from a Host.

#include <memory>

#include "strata/metrics.hpp"
#include "strata/sdk/sdk.hpp"
#include "strata/services/audit_log.hpp"
#include "strata/settings.hpp"

namespace strata {

class AuditLedger;
class DataKeys;
class GroupCommit;
class Tracer;

struct ServiceContext {
  std::shared_ptr<sdk::Storage> storage;  ///< required
  std::shared_ptr<sdk::Cipher> cipher;    ///< required
  std::shared_ptr<sdk::Cache> cache;      ///< [cache.default]; null: user lookups go to storage
  std::shared_ptr<sdk::Cache> sessions;   ///< [cache.session], else [cache.default]; null: no sessions
  std::shared_ptr<AuditLog> audit;        ///< required
  std::shared_ptr<DataKeys> data_keys;    ///< required: seals under users' data keys or the cipher's (erasure/data_keys.hpp)
  std::shared_ptr<AuditLedger> ledger;    ///< seals what the sink stores; null: none
  std::shared_ptr<GroupCommit> writes;    ///< required: message inserts coalesce here
  std::shared_ptr<Metrics> metrics;       ///< required
  std::shared_ptr<Tracer> tracer;         ///< null: tracing off
  std::shared_ptr<const sdk::Clock> clock;
  sdk::Logger log;
  ServiceSettings settings;
};

/// "user:<id>", "message:<id>", ...: the audit trail's resource names.
inline std::string resource(std::string_view kind, const sdk::Uuid& id) { return std::string(kind) + ":" + id.str(); }

}  // namespace strata
