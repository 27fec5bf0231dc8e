// strata user erase: crypto-shredding one user (strata/services/erasure.hpp).

#include <fmt/core.h>

#include "command_registry.hpp"
#include "open_host.hpp"
#include "output.hpp"
#include "strata/services.hpp"

namespace strata::cli {
namespace {

struct EraseOptions {
  std::string name;
  bool verify = false;
  std::string backups;
  std::string scratch_config;
};

void print_receipt(const std::string& name, const ErasureReceipt& r) {
  fmt::print("erased {} ({}) in {:.1f} ms\n", printable(name), r.user.str(), r.took.count() / 1000.0);
  fmt::print("  storage: {} data key{} destroyed, {} key pair{} deactivated, account deactivated\n",
             r.data_keys_destroyed.size(), r.data_keys_destroyed.size() == 1 ? "" : "s", r.key_pairs_deactivated.size(),
             r.key_pairs_deactivated.size() == 1 ? "" : "s");
  fmt::print("  caches: user lookups removed{}; opened data keys forgotten in this process\n",
             r.sessions_revoked ? ", sessions revoked" : "");
  fmt::print("  key backups: {} key{} destroyed in {} of them\n", r.backed_up_keys_destroyed,
             r.backed_up_keys_destroyed == 1 ? "" : "s", r.key_backups_scrubbed.size());
  fmt::print("  messages they sent: {}\n", r.sent_messages_erased ? "erased with them (sealed under both users' keys)"
                                                                   : "kept for their recipients ([erasure] sent_messages)");
  for (const auto& problem : r.problems) fmt::print(stderr, "strata: error: not done: {}\n", problem);
}

int verify(Services& services, const sdk::Uuid& user, const EraseOptions& o) {
  auto scratch_host = open_host(o.scratch_config);
  if (!scratch_host) return report_error(scratch_host.error());
  auto scratch = open_services(**scratch_host);
  if (!scratch) return 1;
  auto check = services.erasure().verify(user, o.backups, *scratch, Origin{});
  if (!check) return report_error(check.error());
  fmt::print("restored {} (with {} key backup{}) into the scratch host\n", check->backup.string(),
             check->key_backups.size(), check->key_backups.size() == 1 ? "" : "s");
  fmt::print("  {} of the user's {} message{} fail as key_destroyed\n", check->key_destroyed, check->messages,
             check->messages == 1 ? "" : "s");
  fmt::print("  live data keys of the user: {} in the storage, {} in the scratch storage, {} in key backups\n",
             check->live_keys_in_storage, check->live_keys_in_scratch, check->live_keys_in_key_backups);
  for (const auto& left : check->not_erased) fmt::print(stderr, "strata: error: not erased: {}\n", left);
  fmt::print("{}\n", check->erased() ? "erasure verified" : "ERASURE NOT VERIFIED");
  return check->erased() ? 0 : 1;
}

int erase(const Host& host, const EraseOptions& o) {
  auto services = open_services(host);
  if (!services) return 1;
  auto user = services->context().storage->find_user_by_username(o.name);
  if (!user) return report_error(user.error());
  auto receipt = services->erasure().erase(user->id, Origin{});
  if (!receipt) return report_error(receipt.error());
  print_receipt(o.name, *receipt);
  if (!receipt->problems.empty()) return 1;
  return o.verify ? verify(*services, user->id, o) : 0;
}

}  // namespace

void add_erase_command(Registry& registry) {
  auto o = std::make_shared<EraseOptions>();
  auto* user = registry.group(registry.app(), "user", "Add, show or erase users");
  auto* command = user->add_subcommand(
      "erase", "Erase a user for good: destroy their data keys (their messages become unreadable everywhere, backups "
               "included), deactivate them, revoke their sessions; needs [erasure] per_user_keys");
  command->add_option("name", o->name, "username")->required();
  auto* verify_flag = command->add_flag(
      "--verify", o->verify,
      "then restore the newest backup in --backups into the --scratch host and show every message failing");
  command->add_option("--backups", o->backups, "the directory holding the backups (strata-backup-*, strata-keys-*)")
      ->needs(verify_flag);
  command->add_option("--scratch", o->scratch_config,
                      "config of a scratch host (same cipher keys, its own storage) the backup is restored into; "
                      "what it holds is replaced")
      ->needs(verify_flag);
  verify_flag->needs("--backups")->needs("--scratch");
  registry.on(command, [o](const Host& host, const auto&) { return erase(host, *o); });
}

}  // namespace strata::cli
