#include "backup_commands.hpp"

#include <fmt/core.h>

#include "command_registry.hpp"
#include "open_host.hpp"
#include "output.hpp"
#include "strata/services.hpp"
#include "strata/services/backup.hpp"

namespace strata::cli {
namespace {

void print_counts(const std::vector<InstanceBackup>& instances) {
  std::vector<std::vector<std::string>> rows{{"INSTANCE", "PLUGIN", "SCHEMA", "RECORDS"}};
  for (const auto& i : instances) {
    std::string counts;
    for (const auto& [what, n] : i.counts) counts += (counts.empty() ? "" : ", ") + fmt::format("{} {}", what, n);
    rows.push_back({i.dir, i.plugin + " " + i.plugin_version, i.schema_version.empty() ? "-" : i.schema_version,
                    counts.empty() ? "-" : counts});
  }
  print_table(rows);
}

}  // namespace

int backup(const Host& host, const std::string& out_dir, bool encrypt) {
  auto services = open_services(host);
  if (!services) return 1;
  auto done = services->backup(BackupOptions{out_dir, encrypt});
  if (!done) return report_error(done.error());
  fmt::print("backup written to {}\n", done->dir.string());
  print_counts(done->instances);
  for (const auto& skipped : done->skipped) fmt::print("not backed up: {}\n", skipped);
  if (done->key_backup)
    fmt::print("users' data keys ({} record{}) written apart to {}\n", done->data_keys, done->data_keys == 1 ? "" : "s",
               done->key_backup->string());
  for (const auto& deleted : done->key_backups_deleted)
    fmt::print("deleted the expired key backup {}\n", deleted.string());
  return 0;
}

int backup_verify(const Host& host, const std::string& dir) {
  auto cipher = host.cipher();
  auto checked = verify_backup(dir, cipher.get());
  if (!checked) return report_error(checked.error());
  print_counts(checked->instances);
  if (checked->authenticated) {
    fmt::print("{}: manifest authenticated, every file checks out\n", dir);
    return 0;
  }
  if (checked->authenticable) {  // only without a cipher: verify_backup checked it otherwise
    fmt::print(stderr, "strata: error: {}: every file matches the manifest, but the manifest is NOT authenticated: "
                       "the config has no [cipher] to check its MAC with\n", dir);
    return 1;
  }
  fmt::print("{}: every file checks out; the manifest carries no MAC (taken without a cipher)\n", dir);
  return 0;
}

int restore(const Host& host, const std::string& dir, bool force) {
  auto services = open_services(host);
  if (!services) return 1;
  auto done = services->restore(dir, force);
  if (!done) return report_error(done.error());
  fmt::print("restored {} instance{} from {}\n", done->restored.size(), done->restored.size() == 1 ? "" : "s", dir);
  print_counts(done->restored);
  if (const auto& keys = done->data_keys) {
    fmt::print("data keys from {} key backup{}: {} restored, {} already present, {} refused as destroyed (erased "
               "users'), {} destroyed ids recorded\n",
               keys->sources.size(), keys->sources.size() == 1 ? "" : "s", keys->restored, keys->present,
               keys->refused_destroyed, keys->tombstones);
  }
  return 0;
}

void add_backup_commands(Registry& registry) {
  struct BackupCommandOptions {
    std::string out_dir = ".", dir;
    bool encrypt = false, force = false;
  };
  auto b = std::make_shared<BackupCommandOptions>();
  auto& app = registry.app();
  auto* backup_command =
      app.add_subcommand("backup", "Back up every storage, cache and audit instance into one directory");
  backup_command->require_subcommand(0, 1);
  backup_command->add_option("--out", b->out_dir, "where the backup directory is created (default: here)");
  backup_command->add_flag("--encrypt", b->encrypt, "seal every file with the cipher role; the manifest names the key");
  registry.on(backup_command, [b](const Host& host, const auto&) { return backup(host, b->out_dir, b->encrypt); });
  auto* verify = backup_command->add_subcommand(
      "verify", "Check a backup: the manifest's MAC (with the config's cipher), every file's SHA-256");
  verify->add_option("dir", b->dir, "the backup directory")->required();
  registry.on(verify, [b](const Host& host, const auto&) { return backup_verify(host, b->dir); });
  auto* restore_command =
      app.add_subcommand("restore", "Restore a backup (verified first; a non-empty target needs --force)");
  restore_command->add_option("dir", b->dir, "the backup directory")->required();
  restore_command->add_flag("--force", b->force, "replace data the targets already hold");
  registry.on(restore_command, [b](const Host& host, const auto&) { return restore(host, b->dir, b->force); });
}

}  // namespace strata::cli
