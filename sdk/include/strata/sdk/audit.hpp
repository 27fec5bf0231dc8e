#pragma once
// The audit role: append-only security events and metrics (the seed's AuditLog and Metric).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/sdk/backup.hpp"
#include "strata/sdk/database_info.hpp"
#include "strata/sdk/error.hpp"
#include "strata/sdk/role_methods.hpp"
#include "strata/sdk/timestamp.hpp"
#include "strata/sdk/uuid.hpp"

namespace strata::sdk {

/// Outcome of an audited operation.
enum class AuditStatus { success, failure };

/// "success" or "failure".
constexpr std::string_view to_string(AuditStatus s) noexcept {
  return s == AuditStatus::success ? "success" : "failure";
}

/// One security-relevant event (the seed's AuditLog document).
struct AuditEvent {
  Uuid id;                             ///< chosen by the caller: appending twice never duplicates
  Timestamp timestamp;
  std::optional<std::string> user_id;  ///< empty for anonymous events
  std::string ip;
  std::string action;                  ///< e.g. "user.login"
  std::string resource;                ///< e.g. "user:<id>"
  AuditStatus status = AuditStatus::success;
  std::string metadata = "{}";         ///< a JSON object, as text

  bool operator==(const AuditEvent&) const = default;
};

/// The checks every audit sink makes before storing an event (the seed's
/// AuditLog model requires ip, action and resource): `invalid_argument` naming
/// the event otherwise. Sinks that parse `metadata` also require a JSON object.
inline Result<void> validate(const AuditEvent& e) {
  if (e.ip.empty() || e.action.empty() || e.resource.empty())
    return fail(ErrorCode::invalid_argument, "audit event " + e.id.str() + " needs a non-empty ip, action and resource");
  return {};
}

/// One metric sample (the seed's Metric document).
struct Metric {
  Timestamp timestamp;
  std::string name;
  double value = 0;
  std::map<std::string, std::string> labels;

  bool operator==(const Metric&) const = default;
};

/// Filters for events; all given filters must match. `from` is inclusive, `to` exclusive.
struct AuditQuery {
  std::optional<Timestamp> from;
  std::optional<Timestamp> to;
  std::optional<std::string> user_id;
  std::optional<std::string> action;
  std::optional<AuditStatus> status;
  std::size_t limit = 100;
};

/// Filters for metrics; `from` is inclusive, `to` exclusive.
struct MetricQuery {
  std::optional<std::string> name;
  std::optional<Timestamp> from;
  std::optional<Timestamp> to;
  std::size_t limit = 100;
};

/// Audit role. Appends are durable when they return; an event whose id was
/// already appended is skipped, so a retried batch never duplicates.
/// Implementations must be safe to call from several threads.
class Audit {
 public:
  virtual ~Audit() = default;

  /// Whether the backend answers.
  virtual Result<void> health() = 0;
  /// Appends events (durable on return).
  virtual Result<void> append(std::span<const AuditEvent> events) = 0;
  /// Appends metric samples (durable on return).
  virtual Result<void> append_metrics(std::span<const Metric> metrics) = 0;
  /// Matching events, newest first (ties by id, descending), at most `limit`.
  virtual Result<std::vector<AuditEvent>> query(const AuditQuery& query) = 0;
  /// How many events match (ignoring `limit`).
  virtual Result<std::uint64_t> count(const AuditQuery& query) = 0;
  /// Matching metric samples, newest first, at most `limit`.
  virtual Result<std::vector<Metric>> query_metrics(const MetricQuery& query) = 0;

  // ---- optional methods, from the table in role_methods.hpp -----------------
  // Their `unsupported` defaults are generated from STRATA_SDK_AUDIT_METHODS;
  // each is documented there. SDK ABI 1.2: backup(dir) writes this instance's
  // data into an empty directory, restore(dir) replaces the data with it,
  // has_data() says whether there is any (restore refuses a non-empty target
  // unless forced). Leaving them out declares the capability absent: `strata
  // backup` reports the instance as not backed up. SDK ABI 1.8:
  // check_restore(dir), restore's preflight. SDK ABI 1.9: sink_identity(),
  // where the events end up (the outbox relays only into that sink).
  STRATA_SDK_AUDIT_METHODS(STRATA_SDK_OPTIONAL_DEFAULT)
};

}  // namespace strata::sdk
