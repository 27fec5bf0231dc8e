// Users' data keys (SDK 1.11) on SQLite: strata_keys.strata_data_keys
// (schema/sqlite/006_data_keys), in the attached "<path>-keys" file.

#include "sqlite_migrations.hpp"
#include "sqlite_storage.hpp"

namespace strata::sqlite {
namespace {

using sdk::ErrorCode;
using sdk::fail;

#define DATA_KEY_COLUMNS "id, user_id, wrapped, created_at, destroyed_at"

constexpr const char* insert_sql = "INSERT INTO strata_keys.strata_data_keys (id, user_id, wrapped, created_at)"
                                   " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO NOTHING";
constexpr const char* insert_tombstone_sql =
    "INSERT INTO strata_keys.strata_data_keys (id, user_id, wrapped, created_at, destroyed_at)"
    " VALUES (?1, ?2, NULL, ?3, ?4) ON CONFLICT (id) DO UPDATE SET wrapped = NULL,"
    " destroyed_at = coalesce(destroyed_at, excluded.destroyed_at)";
constexpr const char* by_id_sql = "SELECT " DATA_KEY_COLUMNS " FROM strata_keys.strata_data_keys WHERE id = ?1";
constexpr const char* for_user_sql = "SELECT " DATA_KEY_COLUMNS " FROM strata_keys.strata_data_keys"
                                     " WHERE user_id = ?1 AND destroyed_at IS NULL ORDER BY created_at DESC, id DESC";
// secure_delete is on for the keys file: the cleared bytes are overwritten on disk.
constexpr const char* destroy_sql = "UPDATE strata_keys.strata_data_keys SET wrapped = NULL, destroyed_at = ?2"
                                    " WHERE user_id = ?1 AND destroyed_at IS NULL RETURNING id";
constexpr const char* page_sql = "SELECT " DATA_KEY_COLUMNS " FROM strata_keys.strata_data_keys"
                                 " WHERE (created_at, id) < (?1, ?2) ORDER BY created_at DESC, id DESC LIMIT ?3";
constexpr const char* replace_sql = "UPDATE strata_keys.strata_data_keys SET wrapped = ?3"
                                    " WHERE id = ?1 AND wrapped = ?2 AND destroyed_at IS NULL";

sdk::DataKey data_key_from(const Row& r) {
  return sdk::DataKey{r.uuid(0), r.uuid(1), r.null(2) ? sdk::Bytes{} : r.blob(2), r.time(3), r.optional_time(4)};
}

}  // namespace

sdk::Result<void> SqliteStorage::insert_data_key(const sdk::DataKey& key) {
  if (!key.destroyed_at && key.wrapped.empty())
    return fail(ErrorCode::invalid_argument, "data key " + key.id.str() + " has no key");
  std::lock_guard lock(mutex_);
  if (key.destroyed_at) {
    auto r = db_->run(insert_tombstone_sql, {key.id, key.user_id, key.created_at, *key.destroyed_at});
    if (!r) return sdk::fail(r.error());
    return {};
  }
  auto r = db_->run(insert_sql, {key.id, key.user_id, key.wrapped, key.created_at});
  if (!r) return sdk::fail(r.error());
  if (*r == 1) return {};
  bool destroyed = false;
  auto stored = db_->run(by_id_sql, {key.id}, [&](const Row& row) { destroyed = !row.null(4); });
  if (!stored) return sdk::fail(stored.error());
  if (destroyed)
    return fail(ErrorCode::key_destroyed, "data key " + key.id.str() + " was destroyed; it is never stored again");
  return fail(ErrorCode::already_exists, "data key " + key.id.str() + " exists");
}

sdk::Result<sdk::DataKey> SqliteStorage::get_data_key(const sdk::Uuid& id) {
  std::lock_guard lock(mutex_);
  std::optional<sdk::DataKey> found;
  auto r = db_->run(by_id_sql, {id}, [&](const Row& row) { found = data_key_from(row); });
  if (!r) return sdk::fail(r.error());
  if (!found) return fail(ErrorCode::not_found, "no data key with id " + id.str());
  return *found;
}

sdk::Result<std::vector<sdk::DataKey>> SqliteStorage::data_keys_for_user(const sdk::Uuid& user_id) {
  std::lock_guard lock(mutex_);
  std::vector<sdk::DataKey> out;
  auto r = db_->run(for_user_sql, {user_id}, [&](const Row& row) { out.push_back(data_key_from(row)); });
  if (!r) return sdk::fail(r.error());
  return out;
}

sdk::Result<std::vector<sdk::Uuid>> SqliteStorage::destroy_data_keys(const sdk::Uuid& user_id, sdk::Timestamp at) {
  std::lock_guard lock(mutex_);
  std::vector<sdk::Uuid> out;
  auto r = db_->run(destroy_sql, {user_id, at}, [&](const Row& row) { out.push_back(row.uuid(0)); });
  if (!r) return sdk::fail(r.error());
  return out;
}

sdk::Result<sdk::Page<sdk::DataKey>> SqliteStorage::all_data_keys(const sdk::PageRequest& request) {
  return keyset_page(page_sql, {}, request, data_key_from);
}

sdk::Result<bool> SqliteStorage::replace_data_key_wrapping(const sdk::Uuid& id, const sdk::Bytes& expected,
                                                           const sdk::Bytes& replacement) {
  std::lock_guard lock(mutex_);
  auto r = db_->run(replace_sql, {id, expected, replacement});
  if (!r) return sdk::fail(r.error());
  if (*r == 1) return true;
  bool exists = false;
  auto stored = db_->run(by_id_sql, {id}, [&](const Row&) { exists = true; });
  if (!stored) return sdk::fail(stored.error());
  if (!exists) return fail(ErrorCode::not_found, "no data key with id " + id.str());
  return false;
}

sdk::Result<void> SqliteStorage::recreate_data_keys_table() {
  auto status = db_->schema_status();
  if (!status) return sdk::fail(status.error());
  if (status->current < data_keys_version) return {};
  const sdk::Migration* m = migrations().find(data_keys_version);
  if (!m) return fail(ErrorCode::internal, "migration 6 (data keys) is not in this build");
  return db_->exec(m->up);
}

}  // namespace strata::sqlite
