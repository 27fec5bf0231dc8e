// Users' data keys (SDK 1.11) on PostgreSQL: strata_data_keys
// (schema/postgres/009_data_keys), a tombstone row per destroyed key.

#include "postgres_rows.hpp"
#include "postgres_storage.hpp"

namespace strata::postgres {
namespace {

using sdk::ErrorCode;
using sdk::fail;
using Params = std::vector<Param>;

#define DATA_KEY_COLUMNS "id, user_id, wrapped, created_at, destroyed_at"

const Statement insert_data_key_sql{
    "strata_insert_data_key",
    "INSERT INTO strata_data_keys (id, user_id, wrapped, created_at) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (id) DO NOTHING"};
// A tombstone destroys the id whether or not it is stored; the first destruction's time stays.
const Statement insert_tombstone_sql{
    "strata_insert_data_key_tombstone",
    "INSERT INTO strata_data_keys (id, user_id, wrapped, created_at, destroyed_at) VALUES ($1, $2, NULL, $3, $4)"
    " ON CONFLICT (id) DO UPDATE SET wrapped = NULL,"
    " destroyed_at = COALESCE(strata_data_keys.destroyed_at, excluded.destroyed_at)"};
const Statement get_data_key_sql{"strata_get_data_key",
                                 "SELECT " DATA_KEY_COLUMNS " FROM strata_data_keys WHERE id = $1"};
const Statement user_data_keys_sql{"strata_user_data_keys",
                                   "SELECT " DATA_KEY_COLUMNS " FROM strata_data_keys"
                                   " WHERE user_id = $1 AND destroyed_at IS NULL ORDER BY created_at DESC, id DESC"};
// One statement over the user's few key rows (idx_strata_data_keys_user):
// what it costs does not depend on how many messages the keys sealed.
const Statement destroy_data_keys_sql{"strata_destroy_data_keys",
                                      "UPDATE strata_data_keys SET wrapped = NULL, destroyed_at = $2"
                                      " WHERE user_id = $1 AND destroyed_at IS NULL RETURNING id"};
const Statement all_data_keys_sql{"strata_all_data_keys",
                                  "SELECT " DATA_KEY_COLUMNS " FROM strata_data_keys"
                                  " WHERE (created_at, id) < ($1::timestamptz, $2::uuid)"
                                  " ORDER BY created_at DESC, id DESC LIMIT $3"};
const Statement replace_data_key_wrapping_sql{
    "strata_replace_data_key_wrapping",
    "UPDATE strata_data_keys SET wrapped = $3 WHERE id = $1 AND wrapped = $2 AND destroyed_at IS NULL"};

sdk::DataKey data_key_from(const Row& r) {
  return sdk::DataKey{r.uuid(0), r.uuid(1), r.bytes(2), r.time(3), r.optional_time(4)};
}

}  // namespace

sdk::Result<void> PostgresStorage::insert_data_key(const sdk::DataKey& key) {
  if (!key.destroyed_at && key.wrapped.empty())
    return fail(ErrorCode::invalid_argument, "data key " + key.id.str() + " has no key");
  return write<void>(
      [&](Connection& c) -> sdk::Result<void> {
        if (key.destroyed_at) {
          auto r = c.run(insert_tombstone_sql,
                         {key.id.str(), key.user_id.str(), text(key.created_at), text(*key.destroyed_at)});
          if (!r) return sdk::fail(r.error());
          return {};
        }
        auto r = c.run(insert_data_key_sql,
                       {key.id.str(), key.user_id.str(), Param::bytes(key.wrapped), text(key.created_at)});
        if (!r) return sdk::fail(r.error());
        if (affected(*r) == 1) return {};
        auto stored = c.run(get_data_key_sql, {key.id.str()});
        if (!stored) return sdk::fail(stored.error());
        if (PQntuples(stored->get()) == 1 && !Row(stored->get(), 0).null(4))
          return fail(ErrorCode::key_destroyed, "data key " + key.id.str() + " was destroyed; it is never stored again");
        return fail(ErrorCode::already_exists, "data key " + key.id.str() + " exists");
      },
      Repeatable::yes);  // repeated after a cut connection: the row is there, or a tombstone is
}

sdk::Result<sdk::DataKey> PostgresStorage::get_data_key(const sdk::Uuid& id) {
  // From the primary: a key made a moment ago on another host must be found.
  return pool_.run<sdk::DataKey>(Repeatable::yes, [&](Connection& c) -> sdk::Result<sdk::DataKey> {
    auto r = c.run(get_data_key_sql, {id.str()});
    if (!r) return sdk::fail(r.error());
    if (PQntuples(r->get()) == 0) return fail(ErrorCode::not_found, "no data key with id " + id.str());
    return data_key_from(Row(r->get(), 0));
  });
}

sdk::Result<std::vector<sdk::DataKey>> PostgresStorage::data_keys_for_user(const sdk::Uuid& user_id) {
  using Keys = std::vector<sdk::DataKey>;
  return pool_.run<Keys>(Repeatable::yes, [&](Connection& c) -> sdk::Result<Keys> {
    auto r = c.run(user_data_keys_sql, {user_id.str()});
    if (!r) return sdk::fail(r.error());
    Keys out;
    for (int i = 0; i < PQntuples(r->get()); ++i) out.push_back(data_key_from(Row(r->get(), i)));
    return out;
  });
}

sdk::Result<std::vector<sdk::Uuid>> PostgresStorage::destroy_data_keys(const sdk::Uuid& user_id, sdk::Timestamp at) {
  using Ids = std::vector<sdk::Uuid>;
  return write<Ids>(
      [&](Connection& c) -> sdk::Result<Ids> {
        auto r = c.run(destroy_data_keys_sql, {user_id.str(), text(at)});
        if (!r) return sdk::fail(r.error());
        Ids out;
        for (int i = 0; i < PQntuples(r->get()); ++i) out.push_back(Row(r->get(), i).uuid(0));
        return out;
      },
      Repeatable::yes);  // repeated, it destroys nothing more (and reports what the first run did not)
}

sdk::Result<sdk::Page<sdk::DataKey>> PostgresStorage::all_data_keys(const sdk::PageRequest& request) {
  return keyset_page(all_data_keys_sql, {}, request, data_key_from, false);
}

sdk::Result<bool> PostgresStorage::replace_data_key_wrapping(const sdk::Uuid& id, const sdk::Bytes& expected,
                                                             const sdk::Bytes& replacement) {
  Params params{id.str(), Param::bytes(expected), Param::bytes(replacement)};
  return write<bool>([&](Connection& c) -> sdk::Result<bool> {
    auto r = c.run(replace_data_key_wrapping_sql, params);
    if (!r) return sdk::fail(r.error());
    if (affected(*r) == 1) return true;
    auto exists = c.run(get_data_key_sql, {id.str()});
    if (!exists) return sdk::fail(exists.error());
    if (PQntuples(exists->get()) == 0) return fail(ErrorCode::not_found, "no data key with id " + id.str());
    return false;
  });
}

}  // namespace strata::postgres
