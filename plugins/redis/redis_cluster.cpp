#include "redis_cluster.hpp"

#include <array>
#include <map>

namespace strata::redis {
namespace {

using sdk::ErrorCode;
using sdk::fail;

// CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), as Redis Cluster uses.
constexpr std::array<std::uint16_t, 256> crc16_table() {
  std::array<std::uint16_t, 256> table{};
  for (int byte = 0; byte < 256; ++byte) {
    std::uint16_t crc = static_cast<std::uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) crc = static_cast<std::uint16_t>(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    table[byte] = crc;
  }
  return table;
}

std::uint16_t crc16(std::string_view data) {
  static constexpr auto table = crc16_table();
  std::uint16_t crc = 0;
  for (unsigned char c : data) crc = static_cast<std::uint16_t>((crc << 8) ^ table[((crc >> 8) ^ c) & 0xff]);
  return crc;
}

// One CLUSTER SLOTS entry's node: [host, port, id, …]; an empty host means
// the host that answered.
Endpoint endpoint_of(const redisReply& node, const std::string& answering_host) {
  Endpoint out{std::string(node.element[0]->str, node.element[0]->len), static_cast<int>(node.element[1]->integer)};
  if (out.host.empty() || out.host == "?") out.host = answering_host;
  return out;
}

struct SlotRange {
  int first, last;
  Endpoint primary;
  std::vector<Endpoint> replicas;
};

sdk::Result<std::vector<SlotRange>> read_slot_map(Connection& c, const std::string& host) {
  auto reply = c.run({"CLUSTER", "SLOTS"});
  if (!reply) return fail(reply.error());
  const redisReply& ranges = **reply;
  if (ranges.type != REDIS_REPLY_ARRAY) return fail(ErrorCode::internal, "CLUSTER SLOTS: not an array");
  std::vector<SlotRange> out;
  for (std::size_t i = 0; i < ranges.elements; ++i) {
    const redisReply& r = *ranges.element[i];
    if (r.type != REDIS_REPLY_ARRAY || r.elements < 3 || r.element[2]->type != REDIS_REPLY_ARRAY ||
        r.element[2]->elements < 2)
      return fail(ErrorCode::internal, "CLUSTER SLOTS: malformed entry " + std::to_string(i));
    SlotRange range{static_cast<int>(r.element[0]->integer), static_cast<int>(r.element[1]->integer),
                    endpoint_of(*r.element[2], host), {}};
    if (range.first < 0 || range.last >= slot_count || range.first > range.last)
      return fail(ErrorCode::internal, "CLUSTER SLOTS: slot range out of bounds");
    for (std::size_t k = 3; k < r.elements; ++k)
      if (r.element[k]->type == REDIS_REPLY_ARRAY && r.element[k]->elements >= 2)
        range.replicas.push_back(endpoint_of(*r.element[k], host));
    out.push_back(std::move(range));
  }
  if (out.empty()) return fail(ErrorCode::unavailable, "CLUSTER SLOTS: no slot is assigned");
  return out;
}

}  // namespace

int key_slot(std::string_view key) {
  if (auto open = key.find('{'); open != std::string_view::npos) {
    auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
  }
  return crc16(key) & (slot_count - 1);
}

Cluster::Cluster(const Settings& settings, sdk::Logger log)
    : settings_(settings), log_(std::move(log)), slots_(slot_count) {
  for (const auto& seed : settings_.cluster) node(seed);
}

Cluster::Node& Cluster::node(const Endpoint& at) {
  {
    std::shared_lock lock(mutex_);
    for (auto& n : nodes_)
      if (n->at == at) return *n;
  }
  std::unique_lock lock(mutex_);
  for (auto& n : nodes_)
    if (n->at == at) return *n;
  nodes_.push_back(std::make_unique<Node>(at, settings_, log_));
  return *nodes_.back();
}

Cluster::Node* Cluster::owner(int slot) {
  if (Node* n = slots_[slot].load(std::memory_order_acquire)) return n;
  (void)refresh();
  return slots_[slot].load(std::memory_order_acquire);
}

sdk::Result<void> Cluster::refresh(bool forced) {
  const auto asked = Clock::now();
  std::lock_guard one_at_a_time(refresh_mutex_);
  // Someone refreshed while this caller waited, or just now: use that.
  if (refreshed_at_ > asked || (!forced && Clock::now() - refreshed_at_ < std::chrono::milliseconds(100))) return {};
  refreshed_at_ = Clock::now();

  // Ask the nodes whose circuit is closed first (a hung node would hold the
  // refresh for command_timeout), the seeds among them.
  std::vector<Node*> candidates;
  {
    std::shared_lock lock(mutex_);
    for (auto& n : nodes_)
      if (n->pool.breaker()->closed()) candidates.push_back(n.get());
    for (auto& n : nodes_)
      if (!n->pool.breaker()->closed()) candidates.push_back(n.get());
  }
  std::string failures;
  const auto deadline = Clock::now() + settings_.command_timeout;
  for (Node* n : candidates) {
    std::vector<SlotRange> ranges;
    auto tried = n->pool.try_once<void>(
        [&](Connection& c) -> sdk::Result<void> {
          auto read = read_slot_map(c, n->at.host);
          if (!read) return fail(read.error());
          ranges = std::move(*read);
          return {};
        },
        deadline);
    if (!tried.result) {
      failures += "; " + n->at.str() + ": " + tried.result.error().message;
      continue;
    }
    std::vector<std::pair<Node*, std::vector<Endpoint>>> owners;  // node() locks: resolve before taking the lock
    for (const auto& range : ranges) owners.emplace_back(&node(range.primary), range.replicas);
    std::vector<Node*> map(slot_count, nullptr);
    for (std::size_t i = 0; i < ranges.size(); ++i)
      std::fill(map.begin() + ranges[i].first, map.begin() + ranges[i].last + 1, owners[i].first);
    for (int slot = 0; slot < slot_count; ++slot) slots_[slot].store(map[slot], std::memory_order_release);
    std::unique_lock lock(mutex_);
    for (auto& [owner, replicas] : owners) owner->replicas = replicas;
    return {};
  }
  return fail(ErrorCode::unavailable, "no node of the Redis cluster (" + settings_.address() +
                                          ") answered CLUSTER SLOTS" + failures);
}

sdk::Result<void> Cluster::run(int slot, Repeatable repeatable, const Op<void>& op) {
  return run_until(slot, repeatable, op, Clock::now() + settings_.command_timeout);
}

sdk::Result<void> Cluster::run_until(int slot, Repeatable repeatable, const Op<void>& op, Clock::time_point deadline) {
  return route<void>(slot, repeatable, deadline, [&](Node& n, bool asking) {
    if (!asking) return n.pool.try_once<void>(op, deadline);  // the common case: no copy of `op`
    return n.pool.try_once<void>(
        [&](Connection& c) -> sdk::Result<void> {
          if (auto ok = c.run({"ASKING"}); !ok) return fail(ok.error());
          return op(c);
        },
        deadline);
  });
}

sdk::Result<Reply> Cluster::run_command(int slot, Repeatable repeatable, const Command& command) {
  const auto deadline = Clock::now() + settings_.command_timeout;
  return route<Reply>(slot, repeatable, deadline, [&](Node& n, bool asking) {
    if (!asking) return n.pool.try_command(command, deadline);  // auto-pipelined, if on
    return n.pool.try_once<Reply>(
        [&](Connection& c) -> sdk::Result<Reply> {
          if (auto ok = c.run({"ASKING"}); !ok) return fail(ok.error());
          return c.run(command);
        },
        deadline);
  });
}

template <class T, class TryOn>
sdk::Result<T> Cluster::route(int slot, Repeatable repeatable, Clock::time_point deadline, const TryOn& try_on) {
  std::optional<Endpoint> ask;
  int redirects = 0;
  for (int attempt = 1;;) {
    Node* n = ask ? &node(*ask) : owner(slot);
    if (!n) {
      sdk::Error error{ErrorCode::unavailable,
                       "no node of the Redis cluster (" + settings_.address() + ") serves slot " +
                           std::to_string(slot) + " (the slot map could not be read, or the slot is unassigned)",
                       {},
                       true};
      if (!wait_to_retry(settings_, log_, attempt++, deadline, error)) return fail(error);
      (void)refresh();
      continue;
    }
    const bool asking = ask.has_value();
    ask.reset();
    Attempt<T> tried = try_on(*n, asking);
    if (tried.redirect) {
      // The command was not run: following a redirect is safe for any command.
      if (++redirects > 5)
        return fail(ErrorCode::unavailable, "slot " + std::to_string(slot) + " was redirected " +
                                                std::to_string(redirects) + " times in a row (the cluster is resharding)");
      if (tried.redirect->ask) {
        ask = tried.redirect->to;
      } else {
        slots_[slot].store(&node(tried.redirect->to), std::memory_order_release);
        (void)refresh(true);  // a slot moved: others likely did too
      }
      continue;
    }
    if (tried.sent && !tried.broke) return std::move(tried.result);  // a reply, or a Redis error reply
    const sdk::Error error = tried.result.error();
    if (!tried.sent && !error.retryable) return std::move(tried.result);
    if (tried.broke && repeatable == Repeatable::no) return std::move(tried.result);
    if (tried.refused) {
      // The circuit is open: fail at once, unless a failover gave the slot another owner.
      (void)refresh();
      if (owner(slot) == n) return std::move(tried.result);
      continue;
    }
    if (!wait_to_retry(settings_, log_, attempt++, deadline, error)) return std::move(tried.result);
    (void)refresh();
  }
}

sdk::Result<void> GroupCall::run(Connection& c, const KeyGroups& groups) const {
  auto built = commands(groups);
  auto replies = c.pipeline(built);
  if (!replies) return fail(replies.error());
  return take(groups, *replies);
}

sdk::Result<void> Cluster::run_grouped(std::span<const std::string> keys, Repeatable repeatable, const GroupCall& call) {
  const auto deadline = Clock::now() + settings_.command_timeout;
  // node -> slot -> positions in `keys`
  std::map<Node*, std::map<int, std::vector<std::size_t>>> plan;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    int slot = key_slot(keys[i]);
    plan[slots_[slot].load(std::memory_order_acquire)][slot].push_back(i);
  }
  struct Share {
    Node* node;
    const std::map<int, std::vector<std::size_t>>* by_slot;
    KeyGroups groups;
    std::vector<Command> commands;
    std::unique_ptr<Connection> connection;  // sent, reply not read yet
    bool done = false, broke = false;
  };
  std::vector<Share> shares;
  for (auto& [n, by_slot] : plan) {
    Share share{n, &by_slot, {}, {}, nullptr};
    for (const auto& entry : by_slot) share.groups.push_back(entry.second);
    shares.push_back(std::move(share));
  }
  // Scatter: every node gets its commands before any reply is read.
  for (auto& share : shares) {
    if (!share.node) continue;  // slot owner unknown: the slow path reads the map
    auto connection = share.node->pool.checkout(deadline);
    if (!connection) continue;
    share.commands = call.commands(share.groups);
    if ((*connection)->send(share.commands)) {
      share.connection = std::move(*connection);
    } else {
      share.broke = true;
      share.node->pool.checkin(std::move(*connection));
    }
  }
  // Gather: every reply is read (a connection goes back in step) before any error is returned.
  std::optional<sdk::Error> failed;
  for (auto& share : shares) {
    if (!share.connection) continue;
    auto replies = share.connection->receive(share.commands.size());
    const bool redirected = share.connection->redirect().has_value();
    share.broke = share.connection->broken();
    share.node->pool.checkin(std::move(share.connection));
    if (redirected || share.broke) continue;
    share.done = true;
    auto taken = replies ? call.take(share.groups, *replies) : sdk::Result<void>(fail(replies.error()));
    if (!taken && !failed) failed = taken.error();  // a Redis error reply: not retried
  }
  if (failed) return fail(*failed);
  // The slow path, for the shares that did not go through: slot by slot, each
  // following its redirects and retries (the commands are repeatable, or were not run).
  for (auto& share : shares) {
    if (share.done) continue;
    if (share.broke && repeatable == Repeatable::no)
      return fail(ErrorCode::unavailable, "the connection to Redis cluster node " + share.node->at.str() +
                                              " broke after the call was sent; not retried (it may have been applied)");
    for (const auto& [slot, positions] : *share.by_slot) {
      KeyGroups one{positions};
      auto done = run_until(slot, repeatable, [&](Connection& c) { return call.run(c, one); }, deadline);
      if (!done) return done;
    }
  }
  return {};
}

std::vector<Cluster::Node*> Cluster::primaries() {
  std::vector<Node*> out;
  for (const auto& slot : slots_)
    if (Node* n = slot.load(std::memory_order_acquire); n && std::find(out.begin(), out.end(), n) == out.end())
      out.push_back(n);
  return out;
}

std::size_t Cluster::slots_of(const Node* n) const {
  std::size_t count = 0;
  for (const auto& slot : slots_) count += slot.load(std::memory_order_acquire) == n ? 1 : 0;
  return count;
}

sdk::Result<void> Cluster::each_primary(Repeatable repeatable, const Op<void>& op) {
  if (auto read = refresh(true); !read) return read;
  {
    auto unowned = slots_of(nullptr);
    if (unowned > 0)
      return fail(ErrorCode::unavailable, std::to_string(unowned) + " of the Redis cluster's slots have no primary (" +
                                              settings_.address() + "): a call over every primary would miss keys");
  }
  for (Node* n : primaries()) {
    const auto deadline = Clock::now() + settings_.command_timeout;
    for (int attempt = 1;; ++attempt) {
      auto tried = n->pool.try_once(op, deadline);
      if (tried.sent && !tried.broke) {
        if (!tried.result) return tried.result;
        break;
      }
      sdk::Error error = tried.result.error();
      error.message = "Redis cluster node " + n->at.str() + ": " + error.message;
      if ((!tried.sent && !error.retryable) || (tried.broke && repeatable == Repeatable::no) || tried.refused ||
          !wait_to_retry(settings_, log_, attempt, deadline, error))
        return fail(error);
    }
  }
  return {};
}

std::vector<sdk::Metric> Cluster::gauges() {
  (void)refresh(true);
  std::vector<sdk::Metric> out;
  auto now = sdk::Timestamp::now();
  std::size_t covered = slot_count - slots_of(nullptr);
  out.push_back(sdk::Metric{now, "strata_redis_cluster_slots_covered", static_cast<double>(covered), {{"of", "16384"}}});
  for (Node* n : primaries()) {
    std::size_t slots = slots_of(n);
    std::string replicas;
    {
      std::shared_lock lock(mutex_);
      for (const auto& r : n->replicas) replicas += (replicas.empty() ? "" : ",") + r.str();
    }
    auto circuit = n->pool.breaker()->state();
    out.push_back(sdk::Metric{now,
                              "strata_redis_cluster_primary",
                              circuit == "closed" ? 1.0 : 0.0,
                              {{"address", n->at.str()},
                               {"slots", std::to_string(slots)},
                               {"replicas", replicas.empty() ? "none" : replicas},
                               {"circuit", circuit}}});
  }
  return out;
}

}  // namespace strata::redis
