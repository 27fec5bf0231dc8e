// Messages: seal + insert, read + open, rewrap.

#include "strata/services/messages.hpp"

#include <set>

#include "content_replacement.hpp"
#include "erasure/data_keys.hpp"
#include "group_commit.hpp"
#include "rewrap_target.hpp"
#include "service_span.hpp"
#include "strata/services/users.hpp"

namespace strata {
namespace {

using sdk::ErrorCode;
using sdk::fail;

sdk::Unexpected no_message(const sdk::Uuid& id) { return fail(ErrorCode::not_found, "no message with id " + id.str()); }

}  // namespace

// The constructor and destructor, with the rest of following an inbox, are in inbox_stream.cpp.

sdk::Bytes Messages::associated_data(const sdk::Uuid& id, const sdk::Uuid& sender, const sdk::Uuid& recipient) {
  sdk::Bytes aad;
  aad.reserve(48);
  for (const auto* part : {&id, &sender, &recipient}) aad.insert(aad.end(), part->bytes().begin(), part->bytes().end());
  return aad;
}

sdk::Result<sdk::Message> Messages::seal(const Outgoing& out, std::set<sdk::Uuid>* checked) {
  if (out.text.size() > max_text_bytes)
    return fail(ErrorCode::invalid_argument, "a message may have at most " + std::to_string(max_text_bytes) + " bytes");
  if (out.ttl && out.ttl->count() <= 0) return fail(ErrorCode::invalid_argument, "a message TTL must be positive");
  // Bounded, so that created_at + ttl cannot overflow into the past (where
  // the message would be invisible and purged: an acknowledged message lost).
  if (out.ttl && *out.ttl > max_ttl)
    return fail(ErrorCode::invalid_argument, "a message TTL may be at most " + std::to_string(max_ttl.count()) +
                                                 " seconds (100 years), got " + std::to_string(out.ttl->count()));
  // No lookups when the storage checks the users inside the commit
  // (GroupCommit::checks_users): a send then costs no round trip before it.
  const bool commit_checks = ctx_.writes->checks_users();
  for (const auto* id : {&out.from, &out.to}) {
    if (commit_checks || (checked && checked->contains(*id))) continue;
    auto user = users_.get(*id);
    if (!user) {
      if (user.error().code == ErrorCode::not_found)
        return fail(ErrorCode::invalid_argument, "no user with id " + id->str());
      return sdk::fail(user.error());
    }
    if (!user->is_active) return fail(ErrorCode::invalid_argument, "user " + sdk::excerpt(user->username, 80) + " is deactivated");
    if (checked) checked->insert(*id);
  }
  sdk::Message m;
  m.id = sdk::Uuid::generate();
  m.sender_id = out.from;
  m.recipient_id = out.to;
  m.created_at = ctx_.clock->now();
  if (out.ttl) m.expires_at = m.created_at + *out.ttl;
  auto sealed = ctx_.data_keys->seal_message(m.recipient_id, m.sender_id, sdk::as_bytes(out.text),
                                             associated_data(m.id, m.sender_id, m.recipient_id));
  if (!sealed) return sdk::fail(sealed.error());
  m.encrypted_content = std::move(sealed->ciphertext);
  m.iv = std::move(sealed->iv);
  m.key_id = std::move(sealed->key_id);
  return m;
}

sdk::Result<sdk::Message> Messages::send(const Outgoing& out, const Origin& origin) {
  return traced(ctx_, "messages.send", origin, [&]() -> sdk::Result<sdk::Message> {
    std::promise<sdk::Result<sdk::Message>> outcome;
    store(out, nullptr, origin, [&outcome](sdk::Result<sdk::Message> r) { outcome.set_value(std::move(r)); }, true);
    return outcome.get_future().get();
  });
}

std::future<sdk::Result<sdk::Message>> Messages::send_async(const Outgoing& out, const Origin& origin) {
  auto outcome = std::make_shared<std::promise<sdk::Result<sdk::Message>>>();
  auto future = outcome->get_future();
  store(out, nullptr, origin, [outcome](sdk::Result<sdk::Message> r) { outcome->set_value(std::move(r)); }, false);
  return future;
}

void Messages::send_async(const Outgoing& out, const Origin& origin, SendDone done) {
  store(out, nullptr, origin, std::move(done), false);
}

namespace {

// Users the caller looked up are checked as given.
sdk::Result<void> both_active(const sdk::User& from, const sdk::User& to) {
  for (const auto* user : {&from, &to})
    if (!user->is_active) return fail(ErrorCode::invalid_argument, "user " + sdk::excerpt(user->username, 80) + " is deactivated");
  return {};
}

}  // namespace

sdk::Result<sdk::Message> Messages::send(const sdk::User& from, const sdk::User& to, std::string text,
                                         std::optional<std::chrono::seconds> ttl, const Origin& origin) {
  return traced(ctx_, "messages.send", origin, [&]() -> sdk::Result<sdk::Message> {
    if (auto active = both_active(from, to); !active) return sdk::fail(active.error());
    std::set<sdk::Uuid> checked{from.id, to.id};
    std::promise<sdk::Result<sdk::Message>> outcome;
    store(Outgoing{from.id, to.id, std::move(text), ttl}, &checked, origin,
          [&outcome](sdk::Result<sdk::Message> r) { outcome.set_value(std::move(r)); }, true);
    return outcome.get_future().get();
  });
}

void Messages::send_async(const sdk::User& from, const sdk::User& to, std::string text,
                          std::optional<std::chrono::seconds> ttl, const Origin& origin, SendDone done) {
  if (auto active = both_active(from, to); !active) return done(sdk::fail(active.error()));
  std::set<sdk::Uuid> checked{from.id, to.id};
  store(Outgoing{from.id, to.id, std::move(text), ttl}, &checked, origin, std::move(done), false);
}

namespace {

AuditRecord send_event(const Outgoing& out, const sdk::Message& m) {
  return AuditRecord{out.from, "message.send", resource("message", m.id), sdk::AuditStatus::success,
                     {{"recipient_id", out.to.str()}, {"bytes", out.text.size()}, {"key_id", m.key_id}}};
}

}  // namespace

void Messages::store(const Outgoing& out, std::set<sdk::Uuid>* checked, const Origin& origin, SendDone done,
                     bool caller_waits) {
  auto m = seal(out, checked);
  if (!m) return done(std::move(m));
  auto record = send_event(out, *m);
  // A caller that waits anyway may commit on its own thread when the group commit is idle.
  auto submit = [&](std::vector<sdk::Message> rows, std::vector<sdk::AuditEvent> events, GroupCommit::Done written) {
    if (caller_waits) ctx_.writes->submit_and_wait(std::move(rows), std::move(events), std::move(written));
    else ctx_.writes->submit(std::move(rows), std::move(events), std::move(written));
  };
  if (ctx_.audit->uses_outbox()) {
    // The message and its event in one transaction: both durable, or neither.
    auto event = ctx_.audit->event(record, origin);
    submit({*m}, {std::move(event)},
                        [this, m = *m, done = std::move(done)](sdk::Result<void> written) mutable {
                          if (!written) return done(sdk::fail(written.error()));
                          ctx_.audit->outbox_written(1);
                          done(std::move(m));
                        });
    return;
  }
  submit({*m}, {},
                      [this, m = *m, record = std::move(record), origin, done = std::move(done)](
                          sdk::Result<void> written) mutable {
                        if (!written) return done(sdk::fail(written.error()));
                        if (auto recorded = ctx_.audit->record(record, origin); !recorded) {
                          (void)ctx_.storage->soft_delete_message(m.id);  // fail closed: no unaudited message stays visible
                          return done(sdk::fail(recorded.error()));
                        }
                        done(std::move(m));
                      });
}

sdk::Result<std::vector<sdk::Message>> Messages::send_batch(std::span<const Outgoing> batch, const Origin& origin) {
  return traced(ctx_, "messages.send_batch", origin, [&]() -> sdk::Result<std::vector<sdk::Message>> {
    std::vector<sdk::Message> sealed;
    sealed.reserve(batch.size());
    std::set<sdk::Uuid> checked;  // each user looked up once per batch
    for (const auto& out : batch) {
      auto m = seal(out, &checked);
      if (!m) return sdk::fail(m.error());
      sealed.push_back(std::move(*m));
    }
    std::vector<AuditRecord> records;
    records.reserve(sealed.size());
    for (std::size_t i = 0; i < sealed.size(); ++i) {
      records.push_back(send_event(batch[i], sealed[i]));
      records.back().metadata["batch"] = sealed.size();
    }
    if (ctx_.audit->uses_outbox()) {
      std::vector<sdk::AuditEvent> events;
      for (const auto& record : records) events.push_back(ctx_.audit->event(record, origin));
      // One write: the whole batch and its events are atomic.
      if (auto r = ctx_.writes->write(sealed, std::move(events)); !r) return sdk::fail(r.error());
      ctx_.audit->outbox_written(sealed.size());
      return sealed;
    }
    if (auto r = ctx_.writes->write(sealed, {}); !r) return sdk::fail(r.error());
    for (const auto& record : records) {
      if (auto recorded = ctx_.audit->record(record, origin); !recorded) {
        for (const auto& m : sealed) (void)ctx_.storage->soft_delete_message(m.id);
        return sdk::fail(recorded.error());
      }
    }
    return sealed;
  });
}

sdk::Result<std::string> Messages::open(const sdk::Message& m, const Origin& origin) {
  // A row with no key id was written by a client that records none (the
  // seed's services): it can only have used the key the seed configures
  // (DB_ENCRYPTION_KEY, the aes_gcm plugin's key id "default").
  const std::string key_id = m.key_id.empty() ? std::string(unnamed_key_id) : m.key_id;
  if (m.encrypted_content.empty())  // what a storage hands back for a ciphertext over the read bound
    return fail(ErrorCode::invalid_argument,
                "message " + m.id.str() + " has no ciphertext, or one over the " +
                    std::to_string(sdk::max_read_ciphertext_bytes) + " bytes reads allow (" +
                    std::to_string(max_text_bytes) + " bytes of text, sealed): it is not read");
  auto plain = ctx_.data_keys->open(sdk::Sealed{key_id, m.iv, m.encrypted_content},
                                    associated_data(m.id, m.sender_id, m.recipient_id));
  if (plain) return std::string(plain->begin(), plain->end());
  // Never garbage text: say what happened, and leave a trace.
  (void)ctx_.audit->record(AuditRecord{m.recipient_id, "message.open", resource("message", m.id),
                                       sdk::AuditStatus::failure,
                                       {{"reason", std::string(sdk::to_string(plain.error().code))}, {"key_id", m.key_id}}},
                           origin);
  if (plain.error().code == ErrorCode::auth_failed && m.key_id.empty())
    return fail(ErrorCode::auth_failed,
                "message " + m.id.str() +
                    " failed authentication: it has no key id and no valid tag, as the seed's "
                    "DatabaseEncryption.encrypt writes (no GCM tag, no associated data), so it cannot be trusted");
  if (plain.error().code == ErrorCode::auth_failed)
    return fail(ErrorCode::auth_failed, "message " + m.id.str() +
                                            " failed authentication: its ciphertext was altered or belongs to another row");
  if (plain.error().code == ErrorCode::key_destroyed)
    return fail(ErrorCode::key_destroyed, "message " + m.id.str() + " is erased: " + plain.error().message);
  return sdk::fail(plain.error());
}

sdk::Result<ReadMessage> Messages::read(const sdk::Uuid& id, const sdk::Uuid& reader, const Origin& origin) {
  return traced(ctx_, "messages.read", origin, [&]() -> sdk::Result<ReadMessage> {
    auto m = ctx_.storage->get_message(id);
    if (!m) return sdk::fail(m.error());
    bool party = reader == m->sender_id || reader == m->recipient_id;
    bool live = !m->is_deleted && (!m->expires_at || *m->expires_at > ctx_.clock->now());
    if (!party || !live) {
      (void)ctx_.audit->record(AuditRecord{reader, "message.read", resource("message", id), sdk::AuditStatus::failure,
                                           {{"reason", party ? "gone" : "not_a_party"}}},
                               origin);
      return no_message(id);
    }
    auto text = open(*m, origin);
    if (!text) return sdk::fail(text.error());
    if (reader == m->recipient_id && !m->is_read) {
      sdk::Timestamp now = ctx_.clock->now();
      if (auto r = ctx_.storage->mark_read(id, now); !r) return sdk::fail(r.error());
      m->is_read = true;
      m->read_at = now;
    }
    auto recorded = ctx_.audit->record(AuditRecord{reader, "message.read", resource("message", id)}, origin);
    if (!recorded) return sdk::fail(recorded.error());
    return ReadMessage{std::move(*m), std::move(*text)};
  });
}

sdk::Result<sdk::Page<MessageEntry>> Messages::open_page(sdk::Result<sdk::Page<sdk::Message>> page,
                                                         const sdk::Uuid& user, const char* action,
                                                         const Origin& origin) {
  if (!page) return sdk::fail(page.error());
  sdk::Page<MessageEntry> out;
  out.next = page->next;
  std::size_t refused = 0;
  for (auto& m : page->items) {
    auto text = open(m, origin);
    if (!text) ++refused;
    out.items.push_back(MessageEntry{std::move(m), std::move(text)});
  }
  auto recorded = ctx_.audit->record(
      AuditRecord{user, action, resource("user", user),
                  refused ? sdk::AuditStatus::failure : sdk::AuditStatus::success,
                  {{"count", out.items.size()}, {"refused", refused}}},
      origin);
  if (!recorded) return sdk::fail(recorded.error());
  return out;
}

sdk::Result<sdk::Page<MessageEntry>> Messages::inbox(const sdk::Uuid& user, const sdk::PageRequest& page,
                                                     const Origin& origin) {
  return traced(ctx_, "messages.inbox", origin, [&]() -> sdk::Result<sdk::Page<MessageEntry>> {
    return open_page(ctx_.storage->inbox(user, page), user, "message.inbox", origin);
  });
}

sdk::Result<sdk::Page<MessageEntry>> Messages::conversation(const sdk::Uuid& a, const sdk::Uuid& b,
                                                            const sdk::PageRequest& page, const Origin& origin) {
  return traced(ctx_, "messages.conversation", origin, [&]() -> sdk::Result<sdk::Page<MessageEntry>> {
    return open_page(ctx_.storage->conversation(a, b, page), a, "message.conversation", origin);
  });
}

sdk::Result<void> Messages::remove(const sdk::Uuid& id, const sdk::Uuid& by, const Origin& origin) {
  return traced(ctx_, "messages.remove", origin, [&]() -> sdk::Result<void> {
    auto m = ctx_.storage->get_message(id);
    if (!m) return sdk::fail(m.error());
    if (by != m->sender_id && by != m->recipient_id) {
      (void)ctx_.audit->record(AuditRecord{by, "message.delete", resource("message", id), sdk::AuditStatus::failure,
                                           {{"reason", "not_a_party"}}},
                               origin);
      return no_message(id);
    }
    if (auto r = ctx_.storage->soft_delete_message(id); !r) return r;
    return ctx_.audit->record(AuditRecord{by, "message.delete", resource("message", id)}, origin);
  });
}

sdk::Result<RewrapProgress> Messages::rewrap(std::size_t batch_size,
                                             const std::function<void(const RewrapProgress&)>& progress,
                                             const Origin& origin) {
  auto primary = detail::rewrap_target_key(batch_size, *ctx_.cipher);
  if (!primary) return sdk::fail(primary.error());
  const bool to_data_keys = ctx_.data_keys->sealing();
  RewrapProgress p;
  p.target_key_id = to_data_keys ? "users' data keys" : *primary;
  // One page of rows, opened and sealed again as sealing is configured now.
  auto rewrap_page = [&](const std::vector<sdk::Message>& items) -> sdk::Result<void> {
    std::vector<sdk::ContentReplacement> rows;
    for (const auto& m : items) {
      sdk::Bytes aad = associated_data(m.id, m.sender_id, m.recipient_id);
      auto plain = ctx_.data_keys->open(
          sdk::Sealed{m.key_id.empty() ? std::string(unnamed_key_id) : m.key_id, m.iv, m.encrypted_content}, aad);
      if (!plain) {
        ++p.failed;
        (void)ctx_.audit->record(AuditRecord{std::nullopt, "message.rewrap", resource("message", m.id),
                                             sdk::AuditStatus::failure,
                                             {{"reason", std::string(sdk::to_string(plain.error().code))},
                                              {"key_id", m.key_id}}},
                                 origin);
        continue;
      }
      auto sealed = ctx_.data_keys->seal_message(m.recipient_id, m.sender_id, *plain, aad);
      if (!sealed) return sdk::fail(sealed.error());
      rows.push_back({m.id, m.key_id, std::move(sealed->ciphertext), std::move(sealed->iv), std::move(sealed->key_id)});
    }
    // The page's rows in one statement and one transaction: the round trip
    // per row was what bounded a rewrap (about 360 rows/s on PostgreSQL).
    std::vector<sdk::AuditEvent> no_events;  // rewrap records its outcome once, below
    auto replaced = detail::replace_contents(*ctx_.storage, rows, no_events);
    if (!replaced) return sdk::fail(replaced.error());
    for (bool r : *replaced) ++(r ? p.rewrapped : p.skipped);  // skipped: re-sealed or purged meanwhile
    if (progress) progress(p);
    return {};
  };
  // Pages by keyset; a replaced row leaves the selection, so a crash loses
  // nothing and a rerun resumes with what is left.
  auto walk = [&](const std::function<sdk::Result<sdk::Page<sdk::Message>>(const sdk::PageRequest&)>& read)
      -> sdk::Result<void> {
    sdk::PageRequest request{batch_size, std::nullopt};
    for (;;) {
      auto page = read(request);
      if (!page) return sdk::fail(page.error());
      if (auto done = rewrap_page(page->items); !done) return done;
      if (!page->next) return {};
      request.after = page->next;
    }
  };
  if (to_data_keys) {
    // Every row under one of the cipher's keys moves under its users' data
    // keys. The seed's rows (no key id, no tag) are `adopt messages`' to convert.
    auto counts = ctx_.storage->count_messages_by_key();
    if (!counts) return sdk::fail(counts.error());
    std::vector<std::string> sources;
    for (const auto& c : *counts)
      if (!c.key_id.empty() && !DataKeys::names_data_key(c.key_id)) {
        sources.push_back(c.key_id);
        p.total += c.messages;
      }
    for (const auto& source : sources)
      if (auto done = walk([&](const sdk::PageRequest& r) { return ctx_.storage->messages_under_key(source, r); });
          !done)
        return sdk::fail(done.error());
  } else {
    auto total = ctx_.storage->count_messages_not_under_key(*primary);
    if (!total) return sdk::fail(total.error());
    p.total = *total;
    if (auto done = walk([&](const sdk::PageRequest& r) { return ctx_.storage->messages_not_under_key(*primary, r); });
        !done)
      return sdk::fail(done.error());
  }
  auto recorded = ctx_.audit->record(
      AuditRecord{std::nullopt, "key.rewrap", to_data_keys ? std::string("data-keys") : "cipher:" + p.target_key_id,
                  p.failed ? sdk::AuditStatus::failure : sdk::AuditStatus::success,
                  {{"what", "messages"}, {"rewrapped", p.rewrapped}, {"skipped", p.skipped}, {"failed", p.failed}}},
      origin);
  if (!recorded) return sdk::fail(recorded.error());
  return p;
}

}  // namespace strata
