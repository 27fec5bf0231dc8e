#include "redis_cache.hpp"

#include "redis_backup.hpp"

#include <csignal>
#include <map>
#include <mutex>

namespace strata::redis {
namespace {

using sdk::ErrorCode;
using sdk::fail;

std::string_view view(sdk::BytesView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

sdk::Bytes bytes_of(const redisReply& reply) {
  return sdk::Bytes(reinterpret_cast<const std::uint8_t*>(reply.str),
                    reinterpret_cast<const std::uint8_t*>(reply.str) + reply.len);
}

sdk::Unexpected unexpected_reply(const char* command, const redisReply& reply) {
  return fail(ErrorCode::internal, std::string("unexpected reply type ") + std::to_string(reply.type) + " to " + command);
}

// SCAN's MATCH is a glob: the prefix must match literally.
std::string glob_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// A peer that closes a socket we write to raises SIGPIPE, whose default
// action kills the process; hiredis expects it ignored. Only the default
// disposition is changed: an application's own handler is left alone.
void ignore_sigpipe(const sdk::Logger& log) {
  static std::once_flag once;
  std::call_once(once, [&] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      std::signal(SIGPIPE, SIG_IGN);
      log(sdk::LogLevel::debug, "SIGPIPE set to ignored, so a closed Redis socket is an error, not a crash");
    }
  });
}

}  // namespace

RedisCache::RedisCache(const sdk::PluginContext& context)
    : settings_(read_settings(context.config)),
      wait_replicas_(std::to_string(settings_.min_replicas_acked)),
      wait_ms_(std::to_string(settings_.command_timeout.count())),
      log_(context.log) {
  if (settings_.cluster_mode())
    cluster_ = std::make_unique<Cluster>(settings_, context.log);
  else
    pool_ = std::make_unique<Pool>(settings_, context.log);
  ignore_sigpipe(context.log);
}

template <class T>
sdk::Result<T> RedisCache::on_key(const std::string& key, Repeatable repeatable, const Op<T>& op) {
  if (!cluster_) return pool_->run<T>(repeatable, op);
  std::optional<sdk::Result<T>> out;
  auto done = cluster_->run(key_slot(key), repeatable, [&](Connection& c) -> sdk::Result<void> {
    out.emplace(op(c));
    if (!*out) return sdk::fail(out->error());
    return {};
  });
  if (!done) return sdk::fail(done.error());
  return std::move(*out);
}

sdk::Result<Reply> RedisCache::command_on_key(const std::string& key, Repeatable repeatable, const Command& command) {
  if (!cluster_) return pool_->run_command(repeatable, command);
  return cluster_->run_command(key_slot(key), repeatable, command);
}

sdk::Result<Reply> RedisCache::write_on_key(const std::string& key, Repeatable repeatable, const Command& command) {
  if (settings_.min_replicas_acked == 0) return command_on_key(key, repeatable, command);
  // WAIT follows on the same connection, so the write goes alone.
  return on_key<Reply>(key, repeatable, [&](Connection& c) -> sdk::Result<Reply> {
    auto replies = write(c, {command});
    if (!replies) return sdk::fail(replies.error());
    return std::move(replies->front());
  });
}

sdk::Result<void> RedisCache::on_keys(std::span<const std::string> keys, Repeatable repeatable,
                                      const GroupCall& call) {
  if (cluster_) return cluster_->run_grouped(keys, repeatable, call);
  const KeyGroups all = slot_groups(keys);
  return pool_->run<void>(repeatable, [&](Connection& c) { return call.run(c, all); });
}

sdk::Result<void> RedisCache::on_each_server(Repeatable repeatable, const Op<void>& op) {
  return cluster_ ? cluster_->each_primary(repeatable, op) : pool_->run<void>(repeatable, op);
}

KeyGroups RedisCache::slot_groups(std::span<const std::string> keys) const {
  if (!cluster_) {
    KeyGroups all(1);
    for (std::size_t i = 0; i < keys.size(); ++i) all[0].push_back(i);
    return all;
  }
  std::map<int, std::vector<std::size_t>> by_slot;
  for (std::size_t i = 0; i < keys.size(); ++i) by_slot[key_slot(keys[i])].push_back(i);
  KeyGroups out;
  for (auto& [slot, positions] : by_slot) out.push_back(std::move(positions));
  return out;
}

sdk::ConfigSchema RedisCache::config_schema() { return settings_schema(); }

std::string RedisCache::full_key(std::string_view key) const {
  std::string out = settings_.key_prefix;
  out.append(key);
  return out;
}

sdk::Result<std::optional<std::string>> RedisCache::expiry_ms(std::optional<sdk::Ttl> ttl) const {
  if (ttl) {
    if (ttl->count() <= 0)
      return fail(ErrorCode::invalid_argument, "TTL must be positive, got " + std::to_string(ttl->count()) + " ms");
    return std::optional<std::string>(std::to_string(ttl->count()));
  }
  if (auto fallback = settings_.default_ttl)
    return std::optional<std::string>(std::to_string(std::chrono::milliseconds(*fallback).count()));
  return std::optional<std::string>();
}

void RedisCache::add_wait(std::vector<Command>& commands) const {
  // WAIT in the same round trip: its reply comes once min_replicas_acked
  // replicas have the writes, or the timeout passed.
  if (settings_.min_replicas_acked > 0) commands.push_back({"WAIT", wait_replicas_, wait_ms_});
}

sdk::Result<void> RedisCache::check_wait(std::vector<Reply>& replies, const std::string& where) const {
  if (settings_.min_replicas_acked == 0) return {};
  auto acked = replies.back()->integer;
  replies.pop_back();
  if (acked < settings_.min_replicas_acked)
    return fail(ErrorCode::unavailable, "Redis at " + where + ": the write reached " + std::to_string(acked) +
                                            " of the " + wait_replicas_ +
                                            " replicas min_replicas_acked asks for within " + wait_ms_ +
                                            " ms; not confirmed durable (it may still be applied)");
  return {};
}

sdk::Result<std::vector<Reply>> RedisCache::write(Connection& c, std::vector<Command> commands) {
  add_wait(commands);
  auto replies = c.pipeline(commands);
  if (!replies) return replies;
  if (auto confirmed = check_wait(*replies, c.address()); !confirmed) return sdk::fail(confirmed.error());
  return replies;
}

sdk::Result<void> RedisCache::health() {
  return on_each_server(Repeatable::yes, [](Connection& c) -> sdk::Result<void> {
    auto reply = c.run({"INFO", "memory"});
    if (!reply) return sdk::fail(reply.error());
    // A store that cannot write is not healthy: full under noeviction, Redis
    // refuses writes (OOM). "Full" is 95 %: right after a refusal the
    // refused value's buffer is freed again, and usage sits just below the limit.
    std::string info((*reply)->str ? (*reply)->str : "", (*reply)->str ? (*reply)->len : 0);
    auto field = [&](std::string_view name) {
      auto at = info.find(std::string(name) + ":");
      if (at == std::string::npos) return std::string();
      at += name.size() + 1;
      return info.substr(at, info.find_first_of("\r\n", at) - at);
    };
    std::string used = field("used_memory"), limit = field("maxmemory"), policy = field("maxmemory_policy");
    if (policy == "noeviction" && !limit.empty() && limit != "0" && !used.empty() &&
        std::stoull(used) >= std::stoull(limit) / 100 * 95)
      return fail(ErrorCode::conflict, "Redis at " + c.address() + " is full (used_memory " + used + " of maxmemory " +
                                           limit + ", maxmemory-policy noeviction): it refuses writes");
    return {};
  });
}

sdk::Result<std::optional<sdk::Bytes>> RedisCache::get(std::string_view key) {
  std::string k = full_key(key);
  auto reply = command_on_key(k, Repeatable::yes, {"GET", k});
  if (!reply) return sdk::fail(reply.error());
  if ((*reply)->type == REDIS_REPLY_NIL) return std::nullopt;
  if ((*reply)->type != REDIS_REPLY_STRING) return unexpected_reply("GET", **reply);
  return bytes_of(**reply);
}

sdk::Result<void> RedisCache::set(std::string_view key, sdk::BytesView value, std::optional<sdk::Ttl> ttl) {
  auto px = expiry_ms(ttl);
  if (!px) return sdk::fail(px.error());
  std::string k = full_key(key);
  Command command = *px ? Command{"SET", k, view(value), "PX", **px} : Command{"SET", k, view(value)};
  auto reply = write_on_key(k, Repeatable::yes, command);
  if (!reply) return sdk::fail(reply.error());
  return {};
}

sdk::Result<bool> RedisCache::set_if_absent(std::string_view key, sdk::BytesView value, std::optional<sdk::Ttl> ttl) {
  auto px = expiry_ms(ttl);
  if (!px) return sdk::fail(px.error());
  std::string k = full_key(key);
  Command command = *px ? Command{"SET", k, view(value), "NX", "PX", **px} : Command{"SET", k, view(value), "NX"};
  // Not repeatable: if the first try stored the value, a second would answer "not stored".
  auto reply = write_on_key(k, Repeatable::no, command);
  if (!reply) return sdk::fail(reply.error());
  return (*reply)->type != REDIS_REPLY_NIL;
}

sdk::Result<bool> RedisCache::remove(std::string_view key) {
  std::string k = full_key(key);
  auto reply = write_on_key(k, Repeatable::yes, {"UNLINK", k});
  if (!reply) return sdk::fail(reply.error());
  return (*reply)->integer > 0;
}

sdk::Result<bool> RedisCache::exists(std::string_view key) {
  std::string k = full_key(key);
  auto reply = command_on_key(k, Repeatable::yes, {"EXISTS", k});
  if (!reply) return sdk::fail(reply.error());
  return (*reply)->integer > 0;
}

sdk::Result<bool> RedisCache::expire(std::string_view key, sdk::Ttl ttl) {
  if (ttl.count() <= 0)
    return fail(ErrorCode::invalid_argument, "TTL must be positive, got " + std::to_string(ttl.count()) + " ms");
  std::string k = full_key(key), ms = std::to_string(ttl.count());
  auto reply = write_on_key(k, Repeatable::yes, {"PEXPIRE", k, ms});
  if (!reply) return sdk::fail(reply.error());
  return (*reply)->integer == 1;
}

sdk::Result<sdk::KeyTtl> RedisCache::ttl(std::string_view key) {
  std::string k = full_key(key);
  auto reply = command_on_key(k, Repeatable::yes, {"PTTL", k});
  if (!reply) return sdk::fail(reply.error());
  long long ms = (*reply)->integer;
  if (ms == -2) return sdk::KeyTtl{false, std::nullopt};
  if (ms == -1) return sdk::KeyTtl{true, std::nullopt};
  return sdk::KeyTtl{true, sdk::Ttl(ms)};
}

sdk::Result<std::vector<std::optional<sdk::Bytes>>> RedisCache::get_many(std::span<const std::string> keys) {
  using Values = std::vector<std::optional<sdk::Bytes>>;
  if (keys.empty()) return Values{};
  std::vector<std::string> full;
  full.reserve(keys.size());
  for (const auto& key : keys) full.push_back(full_key(key));
  Values out(keys.size());
  // One MGET per group (all keys; per slot in cluster mode), pipelined.
  GroupCall call;
  call.commands = [&](const KeyGroups& groups) {
    std::vector<Command> commands(groups.size(), Command{"MGET"});
    for (std::size_t g = 0; g < groups.size(); ++g)
      for (auto i : groups[g]) commands[g].push_back(full[i]);
    return commands;
  };
  call.take = [&](const KeyGroups& groups, std::vector<Reply>& replies) -> sdk::Result<void> {
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const redisReply& reply = *replies[g];
      if (reply.type != REDIS_REPLY_ARRAY || reply.elements != groups[g].size()) return unexpected_reply("MGET", reply);
      for (std::size_t j = 0; j < reply.elements; ++j) {
        const redisReply& element = *reply.element[j];
        out[groups[g][j]] =
            element.type == REDIS_REPLY_STRING ? std::optional<sdk::Bytes>(bytes_of(element)) : std::nullopt;
      }
    }
    return {};
  };
  auto done = on_keys(full, Repeatable::yes, call);
  if (!done) return sdk::fail(done.error());
  return out;
}

sdk::Result<void> RedisCache::set_many(std::span<const std::pair<std::string, sdk::Bytes>> entries,
                                       std::optional<sdk::Ttl> ttl) {
  if (entries.empty()) return {};
  auto px = expiry_ms(ttl);
  if (!px) return sdk::fail(px.error());
  std::vector<std::string> keys;
  keys.reserve(entries.size());
  for (const auto& entry : entries) keys.push_back(full_key(entry.first));
  GroupCall call;
  call.commands = [&](const KeyGroups& groups) {
    std::vector<Command> commands;
    for (const auto& group : groups) {
      if (!*px) {
        // No expiry: one MSET per group, the cheapest multi-set for client and server alike.
        Command mset{"MSET"};
        for (auto i : group) {
          mset.push_back(keys[i]);
          mset.push_back(view(entries[i].second));
        }
        commands.push_back(std::move(mset));
      } else {
        // MSET takes no TTL: one SET ... PX per entry, all sent before any reply is read.
        for (auto i : group) commands.push_back(Command{"SET", keys[i], view(entries[i].second), "PX", **px});
      }
    }
    add_wait(commands);  // per node: each primary's own replicas
    return commands;
  };
  call.take = [&](const KeyGroups&, std::vector<Reply>& replies) { return check_wait(replies, settings_.address()); };
  return on_keys(keys, Repeatable::yes, call);
}

sdk::Result<std::int64_t> RedisCache::increment(std::string_view key, std::int64_t delta, std::optional<sdk::Ttl> ttl) {
  auto px = expiry_ms(ttl);
  if (!px) return sdk::fail(px.error());
  std::string k = full_key(key), by = std::to_string(delta);
  std::vector<Command> commands{{"INCRBY", k, by}};
  // NX: only a key without a TTL (a new one) gets it; an existing key keeps its own.
  if (*px) commands.push_back({"PEXPIRE", k, **px, "NX"});
  return on_key<std::int64_t>(k, Repeatable::no, [&](Connection& c) -> sdk::Result<std::int64_t> {
    auto replies = write(c, commands);
    if (!replies) return sdk::fail(replies.error());
    return static_cast<std::int64_t>(replies->front()->integer);
  });
}

// Calls `on_page` with each SCAN page of this instance's keys (full names);
// `on_page` returns false to stop early.
sdk::Result<void> RedisCache::scan_keys(Connection& c,
                                        const std::function<sdk::Result<bool>(const std::vector<std::string>&)>& on_page) {
  const std::string pattern = glob_escape(settings_.key_prefix) + "*";
  std::string cursor = "0";
  do {
    auto page = c.run({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
    if (!page) return sdk::fail(page.error());
    const redisReply& reply = **page;
    if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 2) return unexpected_reply("SCAN", reply);
    cursor.assign(reply.element[0]->str, reply.element[0]->len);
    const redisReply& keys = *reply.element[1];
    std::vector<std::string> names;
    for (std::size_t i = 0; i < keys.elements; ++i) names.emplace_back(keys.element[i]->str, keys.element[i]->len);
    if (names.empty()) continue;
    auto more = on_page(names);
    if (!more) return sdk::fail(more.error());
    if (!*more) break;
  } while (cursor != "0");
  return {};
}

sdk::Result<std::uint64_t> RedisCache::unlink_matching() {
  std::uint64_t removed = 0;
  auto done = on_each_server(Repeatable::yes, [&](Connection& c) -> sdk::Result<void> {
    return scan_keys(c, [&](const std::vector<std::string>& names) -> sdk::Result<bool> {
      // One UNLINK per group: a multi-key command must stay in one slot in cluster mode.
      std::vector<Command> commands;
      for (const auto& group : slot_groups(names)) {
        Command unlink{"UNLINK"};
        for (auto i : group) unlink.emplace_back(names[i]);
        commands.push_back(std::move(unlink));
      }
      auto counts = c.pipeline(commands);
      if (!counts) return sdk::fail(counts.error());
      for (const auto& count : *counts) removed += static_cast<std::uint64_t>(count->integer);
      return true;
    });
  });
  if (!done) return sdk::fail(done.error());
  return removed;
}

sdk::Result<void> RedisCache::may_clear() const {
  const auto& s = settings_;
  // No prefix: the namespace is the whole db, other applications' keys included.
  if (s.key_prefix.empty() && !s.owns_db)
    return fail(ErrorCode::invalid_argument,
                "this instance has no key_prefix, so its namespace is all of db " + std::to_string(s.db) + " on " +
                    s.address() + ": clearing or restoring it would delete every key there, other applications' "
                    "too. Set owns_db = true if this instance owns db " + std::to_string(s.db) +
                    ", or give it a key_prefix");
  return {};
}

sdk::Result<std::uint64_t> RedisCache::clear() {
  if (!settings_.key_prefix.empty()) return unlink_matching();
  if (auto allowed = may_clear(); !allowed) return sdk::fail(allowed.error());
  std::uint64_t removed = 0;
  auto done = on_each_server(Repeatable::yes, [&](Connection& c) -> sdk::Result<void> {
    auto replies = c.pipeline(std::vector<Command>{{"DBSIZE"}, {"FLUSHDB", "ASYNC"}});
    if (!replies) return sdk::fail(replies.error());
    removed += static_cast<std::uint64_t>(replies->front()->integer);
    return {};
  });
  if (!done) return sdk::fail(done.error());
  return removed;
}

// ---- backup (SDK 1.2): keys.bin, see redis_backup.hpp ---------------------

sdk::Result<sdk::BackupReport> RedisCache::backup(const std::filesystem::path& dir) {
  const std::string& prefix = settings_.key_prefix;
  KeysFileWriter file;
  // Every server's keys (every primary in cluster mode); a retried server starts its scan over.
  auto done = on_each_server(Repeatable::yes, [&](Connection& c) -> sdk::Result<void> {
    std::vector<BackupKey> found;
    auto scanned = scan_keys(c, [&](const std::vector<std::string>& names) -> sdk::Result<bool> {
      std::vector<Command> commands;
      for (const auto& name : names) {
        commands.push_back({"DUMP", name});
        commands.push_back({"PTTL", name});
      }
      auto replies = c.pipeline(commands);
      if (!replies) return sdk::fail(replies.error());
      for (std::size_t i = 0; i < names.size(); ++i) {
        const redisReply& dump = *(*replies)[2 * i];
        const redisReply& pttl = *(*replies)[2 * i + 1];
        if (dump.type == REDIS_REPLY_NIL || pttl.integer == -2) continue;  // expired meanwhile
        found.push_back({names[i].substr(prefix.size()), std::string(dump.str, dump.len),
                         static_cast<std::int64_t>(pttl.integer)});
      }
      return true;
    });
    if (!scanned) return scanned;
    for (const auto& key : found) file.add(key.name, key.payload, key.pttl);
    return {};
  });
  if (!done) return sdk::fail(done.error());
  if (auto written = file.write(dir / backup_file); !written) return sdk::fail(written.error());
  return sdk::BackupReport{{backup_file}, {{"keys", file.count()}}, ""};
}

sdk::Result<sdk::BackupReport> RedisCache::restore(const std::filesystem::path& dir) {
  // Parse everything before changing anything.
  auto keys = read_keys_file(dir / backup_file);
  if (!keys) return sdk::fail(keys.error());
  if (auto cleared = clear(); !cleared) return sdk::fail(cleared.error());
  const std::string& prefix = settings_.key_prefix;
  // Pipelined batches of 500 (to each key's node in cluster mode); RESTORE …
  // REPLACE may run twice harmlessly, so a broken connection is retried.
  for (std::size_t start = 0; start < keys->size(); start += 500) {
    std::size_t end = std::min(keys->size(), start + 500);
    std::vector<std::string> names, ttls;
    for (std::size_t i = start; i < end; ++i) {
      names.push_back(prefix + (*keys)[i].name);
      ttls.push_back(std::to_string((*keys)[i].pttl > 0 ? (*keys)[i].pttl : 0));
    }
    GroupCall call;
    call.commands = [&](const KeyGroups& groups) {
      std::vector<Command> commands;
      for (const auto& group : groups)
        for (auto i : group) commands.push_back({"RESTORE", names[i], ttls[i], (*keys)[start + i].payload, "REPLACE"});
      return commands;
    };
    call.take = [](const KeyGroups&, std::vector<Reply>&) -> sdk::Result<void> { return {}; };
    auto done = on_keys(names, Repeatable::yes, call);
    if (!done) return sdk::fail(done.error());
  }
  return sdk::BackupReport{{}, {{"keys", keys->size()}}, ""};
}

sdk::Result<void> RedisCache::check_restore(const std::filesystem::path& dir) {
  if (auto allowed = may_clear(); !allowed) return allowed;
  if (auto keys = read_keys_file(dir / backup_file); !keys) return sdk::fail(keys.error());
  return health();  // every server it would write to answers
}

sdk::Result<bool> RedisCache::has_data() {
  bool any = false;
  auto done = on_each_server(Repeatable::yes, [&](Connection& c) -> sdk::Result<void> {
    if (any) return {};
    return scan_keys(c, [&](const std::vector<std::string>&) -> sdk::Result<bool> {
      any = true;
      return false;
    });
  });
  if (!done) return sdk::fail(done.error());
  return any;
}

sdk::Result<std::vector<sdk::Metric>> RedisCache::gauges() {
  if (cluster_) return cluster_->gauges();
  std::vector<sdk::Metric> out;
  auto* locator = pool_->locator();
  if (!locator) return out;
  auto [answering, primary] = locator->survey();
  auto now = sdk::Timestamp::now();
  const auto& name = settings_.master_name;
  out.push_back(sdk::Metric{now, "strata_redis_sentinels_answering", static_cast<double>(answering),
                            {{"master", name}, {"of", std::to_string(settings_.sentinels.size())}}});
  if (primary) out.push_back(sdk::Metric{now, "strata_redis_primary", 1, {{"master", name}, {"address", primary->str()}}});
  return out;
}

sdk::Result<sdk::DatabaseInfo> RedisCache::database_info() {
  sdk::DatabaseInfo info{"redis", std::to_string(settings_.db), {}, 0};
  if (settings_.cluster_mode()) {
    info.server_address = settings_.cluster.front().host;
    info.server_port = static_cast<std::uint16_t>(settings_.cluster.front().port);
  } else if (!settings_.sentinel_mode()) {
    info.server_address = settings_.host;
    info.server_port = static_cast<std::uint16_t>(settings_.port);
  }
  return info;
}

}  // namespace strata::redis
