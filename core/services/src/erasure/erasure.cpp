#include "strata/services/erasure.hpp"

#include <algorithm>

#include "data_keys.hpp"
#include "key_backup.hpp"
#include "service_span.hpp"
#include "strata/services.hpp"
#include "strata/services/users.hpp"

namespace strata {
namespace {

using sdk::ErrorCode;
using sdk::fail;
namespace fs = std::filesystem;

std::vector<std::string> strings(const std::vector<sdk::Uuid>& ids) {
  std::vector<std::string> out;
  for (const auto& id : ids) out.push_back(id.str());
  return out;
}

std::vector<std::string> strings(const std::vector<fs::path>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(p.string());
  return out;
}

nlohmann::json receipt_json(const ErasureReceipt& r, const ErasureSettings& settings) {
  return {{"storage",
           {{"data_keys_destroyed", strings(r.data_keys_destroyed)},
            {"key_pairs_deactivated", strings(r.key_pairs_deactivated)},
            {"account", r.account_deactivated ? "deactivated" : "unchanged"}}},
          {"cache", {{"user_lookups", "removed"}, {"sessions", r.sessions_revoked ? "revoked" : "none"}}},
          {"process", {{"opened_data_keys", "forgotten"}}},
          {"backups",
           {{"key_backups_scrubbed", strings(r.key_backups_scrubbed)},
            {"keys_destroyed", r.backed_up_keys_destroyed},
            {"other_copies_expire_within_days", settings.key_backup_retention.count() / 24}}},
          {"policy", {{"sent_messages", r.sent_messages_erased ? "erase" : "keep"}}},
          {"problems", r.problems},
          {"took_us", r.took.count()}};
}

// The newest data backup directly inside `dir`.
std::optional<fs::path> newest_backup(const fs::path& dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_directory(ec) && entry.path().filename().string().starts_with("strata-backup-"))
      found.push_back(entry.path());
  if (found.empty()) return std::nullopt;
  return *std::max_element(found.begin(), found.end());
}

std::uint64_t live_keys_of(const std::vector<sdk::DataKey>& records, const sdk::Uuid& user) {
  return static_cast<std::uint64_t>(std::count_if(records.begin(), records.end(), [&](const sdk::DataKey& k) {
    return k.user_id == user && !k.destroyed_at;
  }));
}

}  // namespace

Erasure::Erasure(ServiceContext& context, Users& users) : ctx_(context), users_(users) {}

sdk::Result<ErasureReceipt> Erasure::erase(const sdk::Uuid& user_id, const Origin& origin) {
  return traced(ctx_, "user.erase", origin, [&]() -> sdk::Result<ErasureReceipt> {
    const auto started = std::chrono::steady_clock::now();
    if (!ctx_.settings.erasure.per_user_keys)
      return fail(ErrorCode::invalid_argument,
                  "erasing a user needs [erasure] per_user_keys = true: without it their messages are sealed under "
                  "the cipher's shared keys, which no erase can take back (turn it on, then run `strata keys rewrap` "
                  "to move existing messages under users' data keys)");
    auto user = ctx_.storage->get_user(user_id);
    if (!user) return sdk::fail(user.error());
    ErasureReceipt receipt;
    receipt.user = user_id;
    receipt.sent_messages_erased = ctx_.settings.erasure.erase_sent;
    // First the account: from here on nothing new is sealed for or sent by it.
    // Its lookups leave the user cache and its sessions are revoked with it.
    if (user->is_active) {
      if (auto r = users_.deactivate(user_id, origin); !r) return sdk::fail(r.error());
    }
    receipt.account_deactivated = true;
    receipt.sessions_revoked = ctx_.sessions != nullptr;
    // The erase itself: the user's data keys, in one statement.
    auto destroyed = ctx_.data_keys->destroy(user_id);
    if (!destroyed) return sdk::fail(destroyed.error());
    receipt.data_keys_destroyed = std::move(*destroyed);
    // Key pairs: their private halves were sealed under those keys; no longer offered.
    auto pairs = ctx_.storage->keys_for_user(user_id);
    if (!pairs) return sdk::fail(pairs.error());
    for (const auto& pair : *pairs) {
      if (!pair.is_active) continue;
      if (auto r = ctx_.storage->deactivate_key(pair.id); !r) return sdk::fail(r.error());
      receipt.key_pairs_deactivated.push_back(pair.id);
    }
    // Every key backup this host wrote: the user's keys become tombstones.
    const sdk::Timestamp now = ctx_.clock->now();
    for (const auto& backup : detail::listed_key_backups(detail::key_backup_list(ctx_.settings))) {
      auto scrubbed = detail::scrub_key_backup(backup, user_id, *ctx_.cipher, now);
      if (!scrubbed) {
        receipt.problems.push_back(backup.string() + ": " + scrubbed.error().describe());
        continue;
      }
      if (*scrubbed == 0) continue;
      receipt.key_backups_scrubbed.push_back(backup);
      receipt.backed_up_keys_destroyed += *scrubbed;
    }
    receipt.took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    auto recorded = ctx_.audit->record(AuditRecord{user_id, "user.erase", resource("user", user_id),
                                                   receipt.problems.empty() ? sdk::AuditStatus::success
                                                                            : sdk::AuditStatus::failure,
                                                   receipt_json(receipt, ctx_.settings.erasure)},
                                       origin);
    if (!recorded)
      return fail(recorded.error().code, "user " + user_id.str() +
                                             " was erased, but the receipt could not be recorded in the audit trail: " +
                                             recorded.error().describe());
    return receipt;
  });
}

sdk::Result<ErasureCheck> Erasure::verify(const sdk::Uuid& user_id, const fs::path& backups, Services& scratch,
                                          const Origin& origin) {
  ErasureCheck check;
  auto newest = newest_backup(backups);
  if (!newest) return fail(ErrorCode::not_found, "no Strata backup (strata-backup-*) in " + backups.string());
  check.backup = *newest;
  // A scratch host is one made for this: what it holds is replaced.
  auto restored = scratch.restore(*newest, true, origin);
  if (!restored) return fail(restored.error().code, "restoring " + newest->string() + " into the scratch host: " +
                                                        restored.error().describe());
  if (restored->data_keys) check.key_backups = restored->data_keys->sources;
  // Every message in the user's mailbox, as the backup holds it, opened with every key the scratch host has.
  const auto& s = scratch.context();
  sdk::PageRequest request{sdk::max_page_limit, std::nullopt};
  for (;;) {
    auto page = s.storage->inbox(user_id, request);
    if (!page) return sdk::fail(page.error());
    for (const auto& m : page->items) {
      ++check.messages;
      auto opened = s.data_keys->open(sdk::Sealed{m.key_id.empty() ? std::string(Messages::unnamed_key_id) : m.key_id, m.iv, m.encrypted_content},
                                      Messages::associated_data(m.id, m.sender_id, m.recipient_id));
      if (!opened && opened.error().code == ErrorCode::key_destroyed) ++check.key_destroyed;
      else check.not_erased.push_back(m.id.str() + ": " + (opened ? "opens" : opened.error().describe()));
    }
    if (!page->next) break;
    request.after = page->next;
  }
  auto here = ctx_.storage->data_keys_for_user(user_id);
  if (!here) return sdk::fail(here.error());
  check.live_keys_in_storage = here->size();
  auto there = s.storage->data_keys_for_user(user_id);
  if (!there) return sdk::fail(there.error());
  check.live_keys_in_scratch = there->size();
  // Every key backup in the backup directory and every one this host wrote.
  auto sources = detail::key_backups_in(backups);
  for (const auto& listed : detail::listed_key_backups(detail::key_backup_list(ctx_.settings)))
    if (std::find(sources.begin(), sources.end(), listed) == sources.end()) sources.push_back(listed);
  for (const auto& source : sources) {
    auto records = detail::read_key_backup(source, *ctx_.cipher);
    if (!records) return fail(records.error().code, "reading " + source.string() + ": " + records.error().describe());
    check.live_keys_in_key_backups += live_keys_of(*records, user_id);
  }
  auto recorded = ctx_.audit->record(
      AuditRecord{user_id, "user.erase.verify", resource("user", user_id),
                  check.erased() ? sdk::AuditStatus::success : sdk::AuditStatus::failure,
                  {{"backup", check.backup.string()},
                   {"key_backups", strings(check.key_backups)},
                   {"messages", check.messages},
                   {"key_destroyed", check.key_destroyed},
                   {"not_erased", check.not_erased.size()},
                   {"live_keys", {{"storage", check.live_keys_in_storage},
                                  {"scratch", check.live_keys_in_scratch},
                                  {"key_backups", check.live_keys_in_key_backups}}}}},
      origin);
  if (!recorded) return sdk::fail(recorded.error());
  return check;
}

}  // namespace strata
