#include "service_commands.hpp"

#include <fmt/core.h>

#include <iostream>

#include "command_registry.hpp"
#include "open_host.hpp"
#include "output.hpp"
#include "password_input.hpp"
#include "strata/services.hpp"
#include "strata/services/audit_ledger.hpp"

namespace strata::cli {
namespace {

std::string when(sdk::Timestamp t) { return t.iso8601(); }

// The public half of the user's current key pair, in hex (as the seed's BYTEA shows in psql).
std::string public_key_of(Services& services, const sdk::Uuid& user_id) {
  auto key = services.keys().current(user_id);
  return key ? sdk::to_hex(key->public_key) : "none";
}

}  // namespace

int user_add(const Host& host, const std::string& name, const std::string& email) {
  auto services = open_services(host);
  if (!services) return 1;
  auto password = read_password(fmt::format("password for {}", printable(name)).c_str(), true);
  if (!password) return report_error(password.error());
  auto user = services->users().register_user(name, email, *password, Origin{});
  if (!user) return report_error(user.error());
  auto key = services->keys().rotate(user->id, Origin{});
  if (!key) return report_error(key.error());
  fmt::print("added user {} ({}) with key {}\n", printable(user->username), user->id.str(), key->id.str());
  return 0;
}

int user_show(const Host& host, const std::string& name) {
  auto services = open_services(host);
  if (!services) return 1;
  auto user = services->users().by_username(name);
  if (!user) return report_error(user.error());
  print_table({{"id", user->id.str()},
               {"username", printable(user->username)},
               {"email", printable(user->email)},
               {"active", user->is_active ? "yes" : "no"},
               {"created", when(user->created_at)},
               {"last login", user->last_login ? when(*user->last_login) : "never"},
               {"public key", public_key_of(*services, user->id)}});
  auto keys = services->keys().all(user->id);
  if (!keys) return report_error(keys.error());
  std::vector<std::vector<std::string>> rows{{"KEY", "CREATED", "EXPIRES", "ACTIVE"}};
  for (const auto& k : *keys)
    rows.push_back({k.id.str(), when(k.created_at), k.expires_at ? when(*k.expires_at) : "never",
                    k.is_active ? "yes" : "no"});
  fmt::print("\n");
  print_table(rows);
  return 0;
}

int send(const Host& host, const std::string& from, const std::string& to, std::optional<long> ttl_s,
         std::string text) {
  if (text.empty() || text == "-") {
    // Read at most one byte past the limit, so a huge stdin is refused rather than held.
    text.assign(Messages::max_text_bytes + 1, '\0');
    std::cin.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(std::cin.gcount()));
    if (text.empty())
      return report_error(sdk::Error{sdk::ErrorCode::invalid_argument, "no message text: give TEXT, or pipe it on stdin", {}, false});
  }
  auto services = open_services(host);
  if (!services) return 1;
  auto sender = services->users().by_username(from);
  if (!sender) return report_error(sender.error());
  auto recipient = services->users().by_username(to);
  if (!recipient) return report_error(recipient.error());
  std::optional<std::chrono::seconds> ttl;
  if (ttl_s) ttl = std::chrono::seconds(*ttl_s);
  auto sent = services->messages().send(*sender, *recipient, text, ttl, Origin{});  // no second lookup
  if (!sent) return report_error(sent.error());
  fmt::print("sent {} from {} to {}{}\n", sent->id.str(), printable(from), printable(to),
             sent->expires_at ? " (expires " + when(*sent->expires_at) + ")" : "");
  return 0;
}

int inbox(const Host& host, const std::string& name, std::size_t limit) {
  auto services = open_services(host);
  if (!services) return 1;
  auto user = services->users().by_username(name);
  if (!user) return report_error(user.error());
  auto page = services->messages().inbox(user->id, sdk::PageRequest{limit, std::nullopt}, Origin{});
  if (!page) return report_error(page.error());
  std::vector<std::vector<std::string>> rows{{"ID", "SENT", "FROM", "TEXT"}};
  for (const auto& entry : page->items) {
    auto sender = services->users().get(entry.envelope.sender_id);
    rows.push_back({entry.envelope.id.str(), when(entry.envelope.created_at),
                    sender ? printable(sender->username) : entry.envelope.sender_id.str(),
                    entry.text ? printable(*entry.text) : "[refused: " + entry.text.error().message + "]"});
  }
  fmt::print("inbox of {}: {} message{}{}\n", printable(name), page->items.size(), page->items.size() == 1 ? "" : "s",
             page->next ? " (more: raise --limit)" : "");
  if (!page->items.empty()) print_table(rows);
  return 0;
}

int read(const Host& host, const std::string& id_text, const std::string& as) {
  auto id = sdk::Uuid::parse(id_text);
  if (!id) return report_error(sdk::Error{sdk::ErrorCode::invalid_argument, "'" + id_text + "' is not a message id", {}, false});
  auto services = open_services(host);
  if (!services) return 1;
  auto reader = services->users().by_username(as);
  if (!reader) return report_error(reader.error());
  auto message = services->messages().read(*id, reader->id, Origin{});
  if (!message) return report_error(message.error());
  auto sender = services->users().get(message->envelope.sender_id);
  fmt::print("from {} at {}\n{}\n", sender ? printable(sender->username) : message->envelope.sender_id.str(),
             when(message->envelope.created_at), printable(message->text));
  return 0;
}

int audit_tail(const Host& host, std::size_t limit) {
  auto audit = host.audit();
  if (!audit) return report_error(sdk::Error{sdk::ErrorCode::invalid_argument, "the config has no [audit]", {}, false});
  // Events a killed process committed to the storage's outbox join the trail
  // first: opening the audit pipeline relays them (when the services can open).
  std::unique_ptr<Services> services;
  if (host.storage())
    if (auto opened = Services::open(host, ServicesOptions{false})) {
      services = std::move(*opened);
      services->audit().flush();
    }
  sdk::AuditQuery query;
  query.limit = limit;
  auto events = audit->query(query);
  if (!events) return report_error(events.error());
  // Personal fields sealed under users' data keys are shown opened ("[erased]" once erased).
  if (services)
    for (auto& e : *events) services->audit().reveal(e);
  std::vector<std::vector<std::string>> rows{{"TIME", "STATUS", "ACTION", "RESOURCE", "USER", "IP", "METADATA"}};
  for (auto it = events->rbegin(); it != events->rend(); ++it)  // oldest first, like tail
    rows.push_back({when(it->timestamp), std::string(sdk::to_string(it->status)), printable(it->action),
                    printable(it->resource), it->user_id ? printable(*it->user_id) : "-", printable(it->ip),
                    printable(it->metadata)});
  print_table(rows);
  return 0;
}

int metrics(const Host& host) {
  auto audit = host.audit();
  if (!audit) {  // nowhere they were kept: this process's own
    fmt::print("{}", host.metrics()->prometheus());
    return 0;
  }
  sdk::MetricQuery query;
  query.limit = 1'000'000;
  auto records = audit->query_metrics(query);
  if (!records) return report_error(records.error());
  // The audit ledger's checkpoints travel as samples too (`strata audit verify` reads them); they are not counts.
  std::erase_if(*records, [](const sdk::Metric& m) { return m.name == AuditLedger::checkpoint_metric; });
  fmt::print("# totals of {} metric records written by Strata processes through the audit role\n", records->size());
  fmt::print("{}", prometheus_from_records(*records));
  if (auto storage = host.storage())
    if (auto gauges = storage->gauges(); gauges && !gauges->empty()) {
      fmt::print("# current values the storage measures (gauges)\n");
      for (const auto& g : *gauges) fmt::print("{}\n", gauge_line(g));
    }
  return 0;
}

int keys_rotate(const Host& host, const std::string& name) {
  auto services = open_services(host);
  if (!services) return 1;
  auto user = services->users().by_username(name);
  if (!user) return report_error(user.error());
  auto key = services->keys().rotate(user->id, Origin{});
  if (!key) return report_error(key.error());
  fmt::print("{} now has key {} (public {}); older keys are deactivated\n", printable(name), key->id.str(),
             sdk::to_hex(key->public_key));
  return 0;
}

int keys_rewrap(const Host& host, std::size_t batch) {
  auto services = open_services(host);
  if (!services) return 1;
  // Messages first, then users' private keys; both resume where a crash left them.
  auto messages = services->messages().rewrap(
      batch,
      [](const RewrapProgress& p) {
        fmt::print(stderr, "\rrewrap: {}/{} messages re-sealed under {}, {} skipped, {} failed", p.rewrapped, p.total,
                   p.target_key_id, p.skipped, p.failed);
      },
      Origin{});
  fmt::print(stderr, "\n");
  if (!messages) return report_error(messages.error());
  auto keys = services->keys().rewrap(
      batch,
      [](const RewrapProgress& p) {
        fmt::print(stderr, "\rrewrap: {} private and data keys re-wrapped under {}, {} skipped, {} failed", p.rewrapped,
                   p.target_key_id, p.skipped, p.failed);
      },
      Origin{});
  fmt::print(stderr, "\n");
  if (!keys) return report_error(keys.error());
  fmt::print("rewrap finished under {}: {} messages re-sealed ({} skipped, {} could not be opened), "
             "{} private and data keys re-wrapped ({} skipped, {} could not be opened)\n",
             messages->target_key_id, messages->rewrapped, messages->skipped, messages->failed, keys->rewrapped,
             keys->skipped, keys->failed);
  return messages->failed || keys->failed ? 1 : 0;
}

int adopt_messages(const Host& host, bool accept_unauthenticated, std::size_t batch) {
  auto services = open_services(host);
  if (!services) return 1;
  auto report = services->adopt_seed_messages(
      AdoptionOptions{accept_unauthenticated, batch},
      [](const AdoptionReport& r) {
        fmt::print(stderr, "\radopt: {}/{} of the seed's messages converted, {} refused, {} by another run",
                   r.converted, r.seed_rows, r.refused, r.raced);
      },
      Origin{});
  if (report) fmt::print(stderr, "\n");
  if (!report) return report_error(report.error());
  fmt::print("adopt finished under key {}: {} converted, {} already Strata's, {} refused{}, {} converted by "
             "another run\n",
             report->key_id, report->converted, report->already_strata, report->refused,
             report->refused ? " (they stay listed as refused)" : "", report->raced);
  for (const auto& [reason, n] : report->reasons) fmt::print("  refused {}: {}\n", printable(reason), n);
  return report->refused ? 1 : 0;
}

void add_service_commands(Registry& registry) {
  auto& app = registry.app();
  struct UserOptions {
    std::string name, email;
  };
  auto u = std::make_shared<UserOptions>();
  auto* user = registry.group(app, "user", "Add, show or erase users");
  auto* add = user->add_subcommand("add", "Register a user (password from stdin, or a prompt) and create their key");
  add->add_option("name", u->name, "username")->required();
  add->add_option("--email", u->email, "email address")->required();
  registry.on(add, [u](const Host& host, const auto&) { return user_add(host, u->name, u->email); });
  auto* show = user->add_subcommand("show", "Show a user and their keys");
  show->add_option("name", u->name, "username")->required();
  registry.on(show, [u](const Host& host, const auto&) { return user_show(host, u->name); });

  struct SendOptions {
    std::string from, to, text;
    std::optional<long> ttl;
  };
  auto s = std::make_shared<SendOptions>();
  auto* send_command = app.add_subcommand("send", "Send an encrypted message");
  send_command->add_option("--from", s->from, "sender's username")->required();
  send_command->add_option("--to", s->to, "recipient's username")->required();
  send_command->add_option("--ttl", s->ttl, "seconds until the message expires")->check(CLI::PositiveNumber);
  send_command->add_option("text", s->text,
                           "the message; '-' or none: read it from stdin (for text longer than argv allows)");
  registry.on(send_command, [s](const Host& host, const auto&) { return send(host, s->from, s->to, s->ttl, s->text); });

  struct InboxOptions {
    std::string name;
    std::size_t limit = 20;
  };
  auto i = std::make_shared<InboxOptions>();
  auto* inbox_command = app.add_subcommand("inbox", "Show a user's decrypted inbox, newest first");
  inbox_command->add_option("name", i->name, "username")->required();
  inbox_command->add_option("--limit", i->limit, "how many messages")->check(CLI::Range(1, 1000));
  registry.on(inbox_command, [i](const Host& host, const auto&) { return inbox(host, i->name, i->limit); });

  struct ReadOptions {
    std::string id, as;
  };
  auto r = std::make_shared<ReadOptions>();
  auto* read_command = app.add_subcommand("read", "Open one message as its sender or recipient");
  read_command->add_option("id", r->id, "message id")->required();
  read_command->add_option("--as", r->as, "reader's username")->required();
  registry.on(read_command, [r](const Host& host, const auto&) { return read(host, r->id, r->as); });

  registry.on(app.add_subcommand("metrics", "Print stored metrics in the Prometheus text format"),
              [](const Host& host, const auto&) { return metrics(host); });

  struct KeysOptions {
    std::string user;
    std::size_t batch = 500;
  };
  auto k = std::make_shared<KeysOptions>();
  auto* keys = registry.group(app, "keys", "Rotate user keys, or re-seal messages after a cipher key rotation");
  auto* rotate = keys->add_subcommand("rotate", "Give a user a new key pair; older ones are deactivated");
  rotate->add_option("user", k->user, "username")->required();
  registry.on(rotate, [k](const Host& host, const auto&) { return keys_rotate(host, k->user); });
  auto* rewrap = keys->add_subcommand(
      "rewrap", "Re-seal messages and re-wrap private and data keys under the cipher's primary key (resumable); with "
                "[erasure] per_user_keys, move messages under users' data keys");
  rewrap->add_option("--batch", k->batch, "rows per batch")->check(CLI::Range(1, 1000));
  registry.on(rewrap, [k](const Host& host, const auto&) { return keys_rewrap(host, k->batch); });
}

}  // namespace strata::cli
