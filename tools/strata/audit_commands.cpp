#include "audit_commands.hpp"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "command_registry.hpp"
#include "output.hpp"
#include "service_commands.hpp"
#include "strata/services.hpp"
#include "strata/services/audit_ledger.hpp"

namespace strata::cli {
namespace {

// The ledger of the config's sink, after the services (when they open) have
// relayed what a killed process left in the storage's outbox, so that those
// events are sealed before anything is checked.
sdk::Result<std::shared_ptr<AuditLedger>> open_ledger(const Host& host) {
  if (!host.audit()) return sdk::fail(sdk::ErrorCode::invalid_argument, "the config has no [audit]");
  auto service_settings = read_service_settings(host);
  if (!service_settings) return sdk::fail(service_settings.error());
  const auto& settings = service_settings->audit.ledger;
  if (!settings.enabled)
    return sdk::fail(sdk::ErrorCode::invalid_argument, "[audit] ledger = false: this sink's events are not sealed");
  if (host.storage())
    if (auto services = Services::open(host, ServicesOptions{false})) (*services)->audit().flush();
  return AuditLedger::open(settings, host.clock(), host.log(), host.audit());
}

nlohmann::json hashes_json(const std::vector<std::string>& hashes) { return nlohmann::json(hashes); }

}  // namespace

int audit_verify(const Host& host, const std::string& since) {
  std::optional<sdk::Timestamp> horizon;
  if (!since.empty() && !(horizon = sdk::Timestamp::parse(since)))
    return report_error(sdk::Error{sdk::ErrorCode::invalid_argument,
                                   "--since wants a time like 2026-11-01T00:00:00Z, not " + printable(since), {}, false});
  auto ledger = open_ledger(host);
  if (!ledger) return report_error(ledger.error());
  auto report = (*ledger)->verify(*host.audit(), horizon);
  if (!report) return report_error(report.error());
  fmt::print("ledger {}: {} leaves, {} signed checkpoints verified (newest: {} leaves)\n", report->origin,
             report->leaves, report->checkpoints, report->checkpoint_size);
  fmt::print("sink: {} events", report->events);
  if (report->predating) fmt::print(" ({} older than the ledger, not covered)", report->predating);
  if (report->redelivered) fmt::print("; {} leaves repeat an event handed over again", report->redelivered);
  if (report->expired) fmt::print("; {} sealed events older than --since are gone (retention)", report->expired);
  fmt::print("\n");
  for (const auto& p : report->problems) fmt::print("{}: {}\n", p.kind, printable(p.detail));
  if (report->problem_count > report->problems.size())
    fmt::print("... and {} more\n", report->problem_count - report->problems.size());
  if (!report->ok()) {
    fmt::print(stderr, "strata: error: the audit trail was tampered with: {} problem(s)\n", report->problem_count);
    return 1;
  }
  fmt::print("ok: every event since the ledger began is sealed and unchanged, none is missing\n");
  return 0;
}

int audit_prove(const Host& host, const std::string& event_id) {
  auto id = sdk::Uuid::parse(event_id);
  if (!id) return report_error(sdk::Error{sdk::ErrorCode::invalid_argument, "not an event id: " + printable(event_id), {}, false});
  auto ledger = open_ledger(host);
  if (!ledger) return report_error(ledger.error());
  if (auto signed_now = (*ledger)->checkpoint(); !signed_now) return report_error(signed_now.error());
  auto proof = (*ledger)->prove(*id);
  if (!proof) return report_error(proof.error());
  nlohmann::json out = {{"event", proof->event_id},     {"leaf_index", proof->index},
                        {"tree_size", proof->tree_size}, {"leaf_hash", proof->leaf_hash},
                        {"root", proof->root},           {"proof", hashes_json(proof->hashes)},
                        {"checkpoint", proof->checkpoint}, {"verifier_key", (*ledger)->verifier_key()}};
  fmt::print("{}\n", out.dump(2));
  return 0;
}

int audit_consistency(const Host& host, std::uint64_t old_size, std::uint64_t new_size) {
  auto ledger = open_ledger(host);
  if (!ledger) return report_error(ledger.error());
  auto proof = (*ledger)->consistency(old_size, new_size);
  if (!proof) return report_error(proof.error());
  nlohmann::json out = {{"old_size", proof->old_size}, {"new_size", proof->new_size}, {"old_root", proof->old_root},
                        {"new_root", proof->new_root}, {"proof", hashes_json(proof->hashes)}};
  fmt::print("{}\n", out.dump(2));
  return 0;
}

int audit_checkpoint(const Host& host) {
  auto ledger = open_ledger(host);
  if (!ledger) return report_error(ledger.error());
  if (auto signed_now = (*ledger)->checkpoint(); !signed_now) return report_error(signed_now.error());
  auto note = (*ledger)->latest_checkpoint();
  if (!note) return report_error(note.error());
  if (note->empty()) {
    fmt::print("nothing sealed yet: no checkpoint\n");
    return 0;
  }
  fmt::print("{}", *note);
  return 0;
}

int audit_key(const Host& host) {
  auto ledger = open_ledger(host);
  if (!ledger) return report_error(ledger.error());
  fmt::print("{}\n", (*ledger)->verifier_key());
  return 0;
}

int audit_pseudonym(const Host& host, const std::string& field, const std::string& value) {
  auto services = Services::open(host, ServicesOptions{false});
  if (!services) return report_error(services.error());
  auto pseudonym = (*services)->audit().pseudonym(field, value);
  if (!pseudonym) return report_error(pseudonym.error());
  fmt::print("{}\n", *pseudonym);
  return 0;
}

void add_audit_commands(Registry& registry) {
  struct AuditOptions {
    std::size_t limit = 20;
    std::string since;
    std::string event_id;
    std::string field, value;
    std::uint64_t old_size = 0, new_size = 0;
  };
  auto o = std::make_shared<AuditOptions>();
  auto* audit = registry.group(registry.app(), "audit", "Read and verify the audit trail");
  auto* tail = audit->add_subcommand("tail", "The newest audit events, oldest first");
  tail->add_option("--limit", o->limit, "how many events")->check(CLI::Range(1, 100000));
  registry.on(tail, [o](const Host& host, const auto&) { return audit_tail(host, o->limit); });
  auto* verify = audit->add_subcommand("verify", "Check every event in the sink against the ledger and its signed "
                                                 "checkpoints; name what was edited, dropped or inserted");
  verify->add_option("--since", o->since,
                     "the sink keeps events from this time on (its retention): older ones it lost are not dropped");
  registry.on(verify, [o](const Host& host, const auto&) { return audit_verify(host, o->since); });
  auto* prove = audit->add_subcommand("prove", "Print an event's inclusion proof (RFC 9162) in the newest checkpoint");
  prove->add_option("event", o->event_id, "the event's id")->required();
  registry.on(prove, [o](const Host& host, const auto&) { return audit_prove(host, o->event_id); });
  auto* consistency =
      audit->add_subcommand("consistency", "Print the proof that the ledger of NEW leaves extends that of OLD");
  consistency->add_option("old", o->old_size, "the earlier tree size")->required();
  consistency->add_option("new", o->new_size, "the later tree size")->required();
  registry.on(consistency,
              [o](const Host& host, const auto&) { return audit_consistency(host, o->old_size, o->new_size); });
  registry.on(audit->add_subcommand("checkpoint", "Sign a checkpoint of everything sealed so far and print it"),
              [](const Host& host, const auto&) { return audit_checkpoint(host); });
  auto* pseudonym = audit->add_subcommand(
      "pseudonym", "Print the pseudonym events without a user carry for VALUE in FIELD (with [erasure] per_user_keys)");
  pseudonym->add_option("field", o->field, "the event field")
      ->required()
      ->check(CLI::IsMember({"ip", "username", "email"}));
  pseudonym->add_option("value", o->value, "the value to look up, e.g. an address")->required();
  registry.on(pseudonym,
              [o](const Host& host, const auto&) { return audit_pseudonym(host, o->field, o->value); });
  registry.on(audit->add_subcommand("key", "Print the key that verifies the ledger's checkpoints"),
              [](const Host& host, const auto&) { return audit_key(host); });
}

}  // namespace strata::cli
