// Services::backup and Services::restore: the backup format (backup.cpp)
// plus what the services add around it: users' data keys beside the backup,
// the restore lock and marker, sessions ended by a restore, audit events.

#include "strata/services.hpp"

#include "backup_format.hpp"
#include "erasure/key_backup.hpp"
#include "restore_state.hpp"

namespace strata {
namespace {

using sdk::ErrorCode;
using sdk::fail;
namespace fs = std::filesystem;

// Whether the storage keeps users' data keys (SDK 1.11): there may be keys to restore.
bool keeps_data_keys(sdk::Storage& storage) {
  auto probe = storage.all_data_keys(sdk::PageRequest{1, std::nullopt});
  return probe || probe.error().code != ErrorCode::unsupported;
}

// Whether there are keys to back up: sealing under them now, or any record kept from before.
bool holds_data_keys(sdk::Storage& storage, const ErasureSettings& settings) {
  if (settings.per_user_keys) return true;
  auto probe = storage.all_data_keys(sdk::PageRequest{1, std::nullopt});
  return probe && !probe->items.empty();
}

}  // namespace

sdk::Result<BackupResult> Services::backup(const BackupOptions& options, const Origin& origin) {
  auto result = detail::write_backup(host_, options);
  if (!result) return result;
  // Users' data keys go beside it, never in it, and expire sooner.
  if (host_.cipher() && holds_data_keys(*context_.storage, context_.settings.erasure)) {
    const std::string stamp =
        result->dir.filename().string().substr(std::string_view("strata-backup-").size());
    const sdk::Timestamp now = context_.clock->now();
    auto keys = detail::write_key_backup(*context_.storage, *host_.cipher(), options.out_dir, stamp, now,
                                         detail::key_backup_list(context_.settings));
    if (!keys)
      return fail(keys.error().code,
                  "the backup " + result->dir.string() +
                      " was written, but its key backup was not: " + keys.error().describe());
    result->key_backup = keys->dir;
    result->data_keys = keys->records;
    if (detail::key_backup_list(context_.settings).empty())
      result->skipped.push_back(
          "key backup list: no data directory to keep it in, so an erase will not scrub " +
          keys->dir.string() + " (set STRATA_DATA_DIR)");
    auto pruned =
        detail::prune_key_backups(options.out_dir, now - context_.settings.erasure.key_backup_retention);
    if (!pruned) return sdk::fail(pruned.error());
    result->key_backups_deleted = std::move(*pruned);
  }
  auto recorded = context_.audit->record(
      AuditRecord{
          std::nullopt,
          "backup.create",
          "backup:" + result->dir.filename().string(),
          sdk::AuditStatus::success,
          {{"instances", result->instances.size()},
           {"encrypted", options.encrypt},
           {"key_backup", result->key_backup ? result->key_backup->filename().string() : std::string()},
           {"key_backups_deleted", result->key_backups_deleted.size()}}},
      origin);
  if (!recorded)
    return fail(recorded.error().code, "the backup " + result->dir.string() +
                                           " was written, but its audit event could not be recorded: " +
                                           recorded.error().describe());
  return result;
}

sdk::Result<RestoreResult> Services::restore(const fs::path& dir, bool force, const Origin& origin) {
  // One restore at a time: the emptiness check and the writes happen under the lock.
  const fs::path state_dir = context_.settings.state_dir();
  if (state_dir.empty())
    return fail(ErrorCode::invalid_argument,
                "a restore keeps its lock and progress in the data directory, and there is none: set "
                "STRATA_DATA_DIR (or XDG_DATA_HOME or HOME), or give [audit] a spool_path");
  auto lock = detail::RestoreLock::take(state_dir);
  if (!lock) return sdk::fail(lock.error());
  // And one per database: hosts with data directories of their own restoring
  // into one database take the storage's own lock (a plugin without one,
  // like the in-memory store, has nothing another host could share).
  auto storage = host_.storage();
  auto held = storage->hold_restore_lock(true);
  if (!held && held.error().code != ErrorCode::unsupported)
    return fail(held.error().code, "not restoring: " + held.error().describe());
  struct Release {
    std::shared_ptr<sdk::Storage> storage;
    ~Release() {
      if (storage) (void)storage->hold_restore_lock(false);
    }
  } release{held ? storage : nullptr};
  // The key backups beside it are read (and authenticated) before anything is written.
  std::vector<std::vector<sdk::DataKey>> key_sets;
  DataKeyRestore keys;
  if (host_.cipher() && keeps_data_keys(*storage)) {
    for (const auto& source :
         detail::key_backups_in(dir.parent_path().empty() ? fs::path(".") : dir.parent_path())) {
      auto records = detail::read_key_backup(source, *host_.cipher());
      if (!records) return fail(records.error().code, "not restoring: " + records.error().describe());
      key_sets.push_back(std::move(*records));
      keys.sources.push_back(source);
    }
  }
  auto result = detail::restore_backup(host_, dir, force, state_dir);
  if (!result) return result;
  // Every key backup's tombstones, then their keys: a key destroyed in any
  // of them, or in the storage, is never stored again.
  std::vector<sdk::DataKey> all;
  for (auto& set : key_sets) all.insert(all.end(), set.begin(), set.end());
  if (!keys.sources.empty()) {
    if (auto put = detail::restore_data_keys(*storage, all, keys); !put)
      return fail(put.error().code,
                  "the backup " + dir.string() + " was restored, but its data keys were not: " +
                      put.error().describe() + "; restore the same backup again to complete it");
    result->data_keys = keys;
  }
  // Sessions made before the restore end with it: a backup (or the session
  // cache restored with it) carries tokens that were live when it was made
  // and revocations only as of then. Until this is done the restore marker
  // stays, so a failure here is completed by restoring again.
  if (context_.sessions)
    if (auto revoked = sessions_.revoke_everyone(origin); !revoked)
      return fail(revoked.error().code,
                  "the backup " + dir.string() +
                      " was restored, but the sessions made before it could not be revoked: " +
                      revoked.error().describe() + "; restore the same backup again to complete it");
  auto recorded =
      context_.audit->record(AuditRecord{std::nullopt,
                                         "backup.restore",
                                         "backup:" + dir.filename().string(),
                                         sdk::AuditStatus::success,
                                         {{"instances", result->restored.size()},
                                          {"forced", force},
                                          {"data_keys_restored", keys.restored},
                                          {"data_keys_refused_destroyed", keys.refused_destroyed}}},
                             origin);
  if (!recorded)
    return fail(recorded.error().code, "the backup " + dir.string() +
                                           " was restored, but its audit event could not be recorded: " +
                                           recorded.error().describe());
  detail::remove_restore_marker(state_dir);
  return result;
}

std::optional<std::string> unfinished_restore(const Host& host) {
  auto settings = read_service_settings(host);
  if (!settings || settings->state_dir().empty()) return std::nullopt;
  auto marker = detail::read_restore_marker(settings->state_dir());
  if (!marker) return std::nullopt;
  return "a restore of " + marker->backup_dir + " started at " + marker->started_at.iso8601() +
         " did not finish: some instances may hold the backup's data and others not; restore the same backup "
         "again to complete it";
}

}  // namespace strata
