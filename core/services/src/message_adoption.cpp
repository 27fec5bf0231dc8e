// Adopting the seed's messages: decrypt unauthenticated, re-seal, compare-and-set.

#include "strata/services/message_adoption.hpp"

#include "content_replacement.hpp"
#include "encoding.hpp"
#include "erasure/data_keys.hpp"
#include "strata/services/messages.hpp"

namespace strata {
namespace {

using sdk::ErrorCode;
using sdk::fail;

// The seed's rows name no key: Strata's all do.
constexpr std::string_view seed_key_id = "";
// A first batch this large refused as "not UTF-8" with nothing converted
// means the wrong key, not bad rows: stop before anything else is touched.
constexpr std::size_t wrong_key_sample = 16;

// Why a seed row cannot be converted, or "" when it can (then `text` holds it).
std::string check_row(ServiceContext const& ctx, const sdk::Message& m, const std::string& key_id, sdk::Bytes& text) {
  if (m.sender_id.is_nil()) return "no_sender";
  if (m.recipient_id.is_nil()) return "no_recipient";
  // Empty, or over the read bound (the storage hands it back empty): never re-sealed as an empty message.
  if (m.encrypted_content.empty()) return "empty_or_too_large";
  auto plain = ctx.cipher->open_untagged(key_id, m.iv, m.encrypted_content);
  if (!plain) return plain.error().code == ErrorCode::invalid_argument ? "iv_length" : std::string(sdk::to_string(plain.error().code));
  if (plain->size() > Messages::max_text_bytes) return "too_large";
  if (!detail::valid_utf8(std::string_view(reinterpret_cast<const char*>(plain->data()), plain->size())))
    return "not_utf8";
  text = std::move(*plain);
  return {};
}

AuditRecord adopt_event(const sdk::Message& m, const std::string& key_id, std::size_t bytes) {
  // The content was never authenticated: the trail says so, for each row.
  return AuditRecord{m.sender_id, "message.adopt", resource("message", m.id), sdk::AuditStatus::success,
                     {{"recipient_id", m.recipient_id.str()},
                      {"from", "seed"},
                      {"authenticated", false},
                      {"key_id", key_id},
                      {"bytes", bytes}}};
}

}  // namespace

sdk::Result<AdoptionReport> adopt_seed_messages(const ServiceContext& ctx, const AdoptionOptions& options,
                                                const std::function<void(const AdoptionReport&)>& progress,
                                                const Origin& origin) {
  if (!options.accept_unauthenticated)
    return fail(ErrorCode::invalid_argument,
                "the seed's messages carry no authentication tag: their content cannot be verified, only decrypted. "
                "Converting them trusts it as it is; say so with --accept-unauthenticated "
                "(AdoptionOptions::accept_unauthenticated)");
  if (options.batch_size == 0 || options.batch_size > sdk::max_page_limit)
    return fail(ErrorCode::invalid_argument,
                "the adoption batch size must be between 1 and " + std::to_string(sdk::max_page_limit));
  auto primary = ctx.cipher->primary_key_id();
  if (!primary) return sdk::fail(primary.error());
  if (primary->empty())
    return fail(ErrorCode::invalid_argument, "the cipher's primary key has an empty id, which is how the seed's rows "
                                             "are told apart: give it an id");
  AdoptionReport report;
  report.key_id = *primary;
  auto counts = ctx.storage->count_messages_by_key();
  if (!counts) return sdk::fail(counts.error());
  for (const auto& [key_id, n] : *counts) (key_id.empty() ? report.seed_rows : report.already_strata) += n;

  // The seed had one key, DB_ENCRYPTION_KEY: the cipher's "default".
  const std::string seed_key(Messages::unnamed_key_id);
  const bool outbox = ctx.audit->uses_outbox();
  sdk::PageRequest request{options.batch_size, std::nullopt};
  for (bool first = true;; first = false) {
    auto page = ctx.storage->messages_under_key(seed_key_id, request);
    if (!page) return sdk::fail(page.error());
    std::vector<sdk::ContentReplacement> rows;
    std::vector<sdk::Message> originals;
    std::vector<AuditRecord> records;
    std::size_t refused_here = 0;
    for (const auto& m : page->items) {
      sdk::Bytes text;
      if (std::string why = check_row(ctx, m, seed_key, text); !why.empty()) {
        ++report.refused;
        ++report.reasons[why];
        ++refused_here;
        continue;
      }
      auto sealed = ctx.data_keys->seal_message(m.recipient_id, m.sender_id, text,
                                                Messages::associated_data(m.id, m.sender_id, m.recipient_id));
      if (!sealed) return sdk::fail(sealed.error());
      rows.push_back({m.id, std::string(seed_key_id), std::move(sealed->ciphertext), std::move(sealed->iv),
                      std::move(sealed->key_id)});
      records.push_back(adopt_event(m, rows.back().key_id, text.size()));
      originals.push_back(m);
    }
    if (first && rows.empty() && refused_here >= wrong_key_sample &&
        report.reasons["not_utf8"] == refused_here)
      return fail(ErrorCode::invalid_argument,
                  "none of the first " + std::to_string(refused_here) + " of the seed's messages decrypted to UTF-8 text "
                  "under key '" + seed_key + "': it is not the key the seed wrote them with (DB_ENCRYPTION_KEY); "
                  "nothing was converted");
    std::vector<sdk::AuditEvent> events;
    if (outbox)
      for (const auto& record : records) events.push_back(ctx.audit->event(record, origin));
    auto replaced = detail::replace_contents(*ctx.storage, rows, events);
    if (!replaced) return sdk::fail(replaced.error());
    std::size_t written = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (!(*replaced)[i]) {
        ++report.raced;  // another run converted it first, or it was deleted
        continue;
      }
      ++report.converted;
      ++written;
      if (events.empty())
        if (auto r = ctx.audit->record(records[i], origin); !r) return sdk::fail(r.error());
    }
    if (!events.empty()) ctx.audit->outbox_written(written);
    if (progress) progress(report);
    if (!page->next) break;
    request.after = page->next;
  }
  nlohmann::json reasons(report.reasons);
  auto recorded = ctx.audit->record(
      AuditRecord{std::nullopt, "messages.adopt", "messages", report.refused ? sdk::AuditStatus::failure : sdk::AuditStatus::success,
                  {{"from", "seed"},
                   {"authenticated", false},
                   {"key_id", report.key_id},
                   {"seed_rows", report.seed_rows},
                   {"converted", report.converted},
                   {"raced", report.raced},
                   {"refused", report.refused},
                   {"reasons", reasons},
                   {"already_strata", report.already_strata}}},
      origin);
  if (!recorded) return sdk::fail(recorded.error());
  return report;
}

}  // namespace strata
