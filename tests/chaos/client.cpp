#include "client.hpp"

#include <algorithm>
#include <random>

#include <fmt/format.h>

namespace strata::chaos {

std::vector<std::string> list_of(const InboxUpdate& update) {
  std::vector<std::string> texts;
  for (const auto& entry : update.entries)
    texts.push_back(entry.text ? *entry.text : "<unopened " + entry.envelope.id.str() + ">");
  return texts;
}

void run_client(Services& services, const ClientClocks& clocks, const std::vector<sdk::User>& users,
                std::uint64_t seed, int thread, int ops, const std::filesystem::path& backups,
                History& history) {
  std::mt19937_64 draw(seed * 1000 + static_cast<std::uint64_t>(thread));
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(draw() % n); };
  struct Held {
    std::string token;
    sdk::Timestamp expires_at;  // as the last create or check said, by the store's clock
  };
  // The services state expiries by the host's clock. A store on another
  // clock set the TTL before the call returned: by its clock the session
  // ends no later than the TTL after the return.
  bool host_clock = &clocks.store == &clocks.host;
  std::vector<Held> tokens;
  std::vector<std::string> revoked;
  for (int i = 0; i < ops; ++i) {
    ++history.ops;
    auto dice = pick(100);
    const auto& user = users[pick(users.size())];
    if (dice < 50) {
      const auto& to = users[(pick(users.size() - 1) + 1 + static_cast<std::size_t>(&user - users.data())) %
                             users.size()];
      std::string text = fmt::format("chaos {} {} {}", seed, thread, i);
      ListOp op{ListOp::Kind::append, to.username, text, {}, false, now_ns(), 0,
                fmt::format("client {} send '{}' to {}", thread, text, to.username)};
      history.sending(op);
      auto sent = services.messages().send(Outgoing{user.id, to.id, text, std::nullopt}, Origin{});
      op.completed_ns = now_ns();
      if (!sent) ++history.failed_ops;
      history.sent(std::move(op), sent ? std::optional(sent->id) : std::nullopt);
    } else if (dice < 58) {
      ListOp op{ListOp::Kind::read, user.username, {}, {}, true, now_ns(), 0, ""};
      auto update = services.messages().since(user.id, InboxCursor{}, sdk::max_page_limit, Origin{});
      op.completed_ns = now_ns();
      if (!update || update->gap) {
        ++history.failed_ops;
        continue;
      }
      for (const auto& entry : update->entries)
        if (entry.envelope.recipient_id != user.id)
          history.violation(fmt::format("a read of {}'s inbox returned message {}, addressed to someone else",
                                        user.username, entry.envelope.id.str()));
      op.observed = list_of(*update);
      op.label = fmt::format("client {} read of {} (saw {})", thread, user.username, op.observed.size());
      history.read(std::move(op));
    } else if (dice < 68) {
      auto session = services.sessions().create(user.id, Origin{});
      if (session)
        tokens.push_back(
            {session->token, host_clock ? session->expires_at : clocks.store.now() + clocks.session_ttl});
      else ++history.failed_ops;
    } else if (dice < 76 && !tokens.empty()) {
      auto token = tokens[pick(tokens.size())].token;
      if (services.sessions().revoke(token, Origin{})) revoked.push_back(token);
      else ++history.failed_ops;
    } else if (dice < 80 && !revoked.empty()) {
      const auto& token = revoked[pick(revoked.size())];
      if (services.sessions().get(token))
        history.violation("a revoked session was valid again (token " + token.substr(0, 8) + "…)");
    } else if (dice < 85 && !tokens.empty()) {
      // Past its expiry by the store's clock both before and after the check
      // (a step back during the call may rightly make it valid again).
      auto& held = tokens[pick(tokens.size())];
      auto before = clocks.store.now();
      if (auto session = services.sessions().get(held.token)) {
        auto earliest = std::min(before, clocks.store.now());
        if (earliest > held.expires_at)
          history.violation(
              fmt::format("a session past its expiry was valid (token {}…, expired {}, clock {})",
                          held.token.substr(0, 8), held.expires_at.iso8601(), earliest.iso8601()));
        if (host_clock) held.expires_at = session->expires_at;  // get() does not extend it
      }
    } else if (dice < 95) {
      if (!services.keys().rotate(user.id, Origin{})) ++history.failed_ops;
    } else if (dice < 98 || backups.empty()) {
      if (!services.messages().inbox(user.id, sdk::PageRequest{50, std::nullopt}, Origin{})) ++history.failed_ops;
    } else {
      // A backup that says it was taken must verify; the round restores it.
      BackupOptions options;
      options.out_dir = backups / fmt::format("client-{}", thread);
      std::error_code ec;
      std::filesystem::create_directories(options.out_dir, ec);
      TakenBackup taken{{}, now_ns(), {}};
      auto backup = services.backup(options, Origin{});
      if (!backup) {
        ++history.failed_ops;
        continue;
      }
      taken.dir = backup->dir.string();
      auto verified = verify_backup(backup->dir);
      if (!verified) {
        history.violation("backup " + taken.dir +
                          " was reported taken but does not verify: " + verified.error().describe());
        continue;
      }
      for (const auto& instance : verified->instances)
        if (instance.role == "storage") taken.counts = instance.counts;
      history.backup(taken);
    }
  }
}

}  // namespace strata::chaos
