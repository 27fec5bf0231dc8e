// `strata`: the operator's command line.

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <exception>

#include "audit_commands.hpp"
#include "commands.hpp"
#include "open_host.hpp"
#include "backup_commands.hpp"
#include "service_commands.hpp"
#include "watch_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"strata: the Strata plugin host's command line"};
  app.set_version_flag("--version", STRATA_SDK_VERSION);
  std::string config_path;
  app.add_option("-c,--config", config_path,
                 "config file (default: $STRATA_CONFIG, else the built-in embedded config)");
  app.require_subcommand(1);
  auto* plugins = app.add_subcommand("plugins", "List running plugins: role, instance, plugin, version, ABI, path");
  auto* check = app.add_subcommand("check", "Load every plugin and run its health check (exit 1 on failure)");
  auto* config = app.add_subcommand("config", "Print the effective config with secrets redacted");
  auto* migrate = app.add_subcommand(
      "migrate", "Move the storage schema: up [N] (default: all; adopts a database the seed's SQL made), down [N] "
                 "(default: 1), status, plan [N] (what up would do)");
  std::string direction;
  std::optional<int> steps;
  bool migrate_dry_run = false;
  migrate->add_option("direction", direction, "up, down, status or plan")
      ->required()
      ->check(CLI::IsMember({"up", "down", "status", "plan"}));
  migrate->add_option("steps", steps, "how many versions to move");
  migrate->add_flag("--dry-run", migrate_dry_run, "print the plan (steps, the seed's objects found), change nothing");

  auto* adopt = app.add_subcommand("adopt", "Take over data the seed's services wrote");
  adopt->require_subcommand(1);
  auto* adopt_messages = adopt->add_subcommand(
      "messages", "Re-seal the seed's tagless messages in Strata's envelope (resumable; each row once)");
  bool accept_unauthenticated = false;
  std::size_t adopt_batch = 500;
  adopt_messages->add_flag("--accept-unauthenticated", accept_unauthenticated,
                           "required: the seed stored no GCM tag, so their content is trusted as it is");
  adopt_messages->add_option("--batch", adopt_batch, "rows per batch (one transaction each)")->check(CLI::Range(1, 1000));
  auto* cleanup = app.add_subcommand("cleanup", "Purge expired messages now (in batches; see the storage's purge.* keys)");
  bool dry_run = false;
  cleanup->add_flag("--dry-run", dry_run, "only count what would be purged");

  auto* user = app.add_subcommand("user", "Add or show users");
  user->require_subcommand(1);
  std::string name, email;
  auto* user_add = user->add_subcommand("add", "Register a user (password from stdin, or a prompt) and create their key");
  user_add->add_option("name", name, "username")->required();
  user_add->add_option("--email", email, "email address")->required();
  auto* user_show = user->add_subcommand("show", "Show a user and their keys");
  user_show->add_option("name", name, "username")->required();

  auto* send = app.add_subcommand("send", "Send an encrypted message");
  std::string from, to, text;
  std::optional<long> ttl;
  send->add_option("--from", from, "sender's username")->required();
  send->add_option("--to", to, "recipient's username")->required();
  send->add_option("--ttl", ttl, "seconds until the message expires")->check(CLI::PositiveNumber);
  send->add_option("text", text, "the message; '-' or none: read it from stdin (for text longer than argv allows)");

  std::size_t limit = 20;
  auto* inbox = app.add_subcommand("inbox", "Show a user's decrypted inbox, newest first");
  inbox->add_option("name", name, "username")->required();
  inbox->add_option("--limit", limit, "how many messages")->check(CLI::Range(1, 1000));

  strata::cli::WatchOptions watch_options;
  auto* watch = app.add_subcommand("watch", "Print a user's new messages as they arrive, decrypted, in commit order");
  watch->add_option("name", watch_options.name, "username")->required();
  watch->add_option("--cursor-file", watch_options.cursor_file,
                    "keep the position here: a restart resumes after the last message printed");
  watch->add_option("--count", watch_options.count, "stop after this many messages")->check(CLI::PositiveNumber);
  watch->add_option("--idle-timeout", watch_options.idle_timeout_s, "stop after this many seconds without a new message")
      ->check(CLI::PositiveNumber);

  auto* read = app.add_subcommand("read", "Open one message as its sender or recipient");
  std::string message_id;
  read->add_option("id", message_id, "message id")->required();
  read->add_option("--as", name, "reader's username")->required();

  auto* audit = app.add_subcommand("audit", "Read the audit trail");
  audit->require_subcommand(1);
  auto* audit_tail = audit->add_subcommand("tail", "The newest audit events, oldest first");
  audit_tail->add_option("--limit", limit, "how many events")->check(CLI::Range(1, 100000));
  auto* audit_verify = audit->add_subcommand(
      "verify", "Check every event in the sink against the ledger and its signed checkpoints; name what was edited, "
                "dropped or inserted");
  std::string event_id;
  auto* audit_prove = audit->add_subcommand("prove", "Print an event's inclusion proof (RFC 9162) in the newest checkpoint");
  audit_prove->add_option("event", event_id, "the event's id")->required();
  std::uint64_t old_size = 0, new_size = 0;
  auto* audit_consistency =
      audit->add_subcommand("consistency", "Print the proof that the ledger of NEW leaves extends that of OLD");
  audit_consistency->add_option("old", old_size, "the earlier tree size")->required();
  audit_consistency->add_option("new", new_size, "the later tree size")->required();
  auto* audit_checkpoint = audit->add_subcommand("checkpoint", "Sign a checkpoint of everything sealed so far and print it");
  auto* audit_key = audit->add_subcommand("key", "Print the key that verifies the ledger's checkpoints");

  auto* metrics = app.add_subcommand("metrics", "Print stored metrics in the Prometheus text format");

  auto* keys = app.add_subcommand("keys", "Rotate user keys, or re-seal messages after a cipher key rotation");
  keys->require_subcommand(1);
  auto* keys_rotate = keys->add_subcommand("rotate", "Give a user a new key pair; older ones are deactivated");
  keys_rotate->add_option("user", name, "username")->required();
  auto* keys_rewrap = keys->add_subcommand("rewrap", "Re-seal messages and re-wrap private keys under the cipher's primary key (resumable)");
  std::size_t batch = 500;
  keys_rewrap->add_option("--batch", batch, "rows per batch")->check(CLI::Range(1, 1000));

  auto* demo = app.add_subcommand("demo", "Run the whole main job once, explaining each step");

  auto* backup = app.add_subcommand("backup", "Back up every storage, cache and audit instance into one directory");
  backup->require_subcommand(0, 1);
  std::string out_dir = ".", backup_dir;
  bool encrypt = false, force = false;
  backup->add_option("--out", out_dir, "where the backup directory is created (default: here)");
  backup->add_flag("--encrypt", encrypt, "seal every file with the cipher role; the manifest names the key");
  auto* backup_verify = backup->add_subcommand("verify", "Check a backup: the manifest's MAC (with the config's cipher), every file's SHA-256");
  backup_verify->add_option("dir", backup_dir, "the backup directory")->required();
  auto* restore = app.add_subcommand("restore", "Restore a backup (verified first; a non-empty target needs --force)");
  restore->add_option("dir", backup_dir, "the backup directory")->required();
  restore->add_flag("--force", force, "replace data the targets already hold");
  CLI11_PARSE(app, argc, argv);

  try {
    std::vector<std::string> notes;  // outlives the host, whose logger fills it
    auto host = strata::cli::open_host(config_path, &notes);
    if (!host) {
      fmt::print(stderr, "strata: error: {}\n", host.error().message);
      return 1;
    }
    auto run = [&]() -> int {
      if (*plugins) return strata::cli::list_plugins(**host);
      if (*check) return strata::cli::check(**host, notes);
      if (*config) return strata::cli::print_config(**host);
      if (*migrate) return strata::cli::migrate(**host, direction, steps, migrate_dry_run);
      if (*cleanup) return strata::cli::cleanup(**host, dry_run);
      namespace cli = strata::cli;
      if (*user_add) return cli::user_add(**host, name, email);
      if (*user_show) return cli::user_show(**host, name);
      if (*send) return cli::send(**host, from, to, ttl, text);
      if (*inbox) return cli::inbox(**host, name, limit);
      if (*watch) return cli::watch(**host, watch_options);
      if (*read) return cli::read(**host, message_id, name);
      if (*audit_tail) return cli::audit_tail(**host, limit);
      if (*audit_verify) return cli::audit_verify(**host);
      if (*audit_prove) return cli::audit_prove(**host, event_id);
      if (*audit_consistency) return cli::audit_consistency(**host, old_size, new_size);
      if (*audit_checkpoint) return cli::audit_checkpoint(**host);
      if (*audit_key) return cli::audit_key(**host);
      if (*metrics) return cli::metrics(**host);
      if (*keys_rotate) return cli::keys_rotate(**host, name);
      if (*keys_rewrap) return cli::keys_rewrap(**host, batch);
      if (*adopt_messages) return cli::adopt_messages(**host, accept_unauthenticated, adopt_batch);
      if (*demo) return cli::demo(**host);
      if (*backup_verify) return cli::backup_verify(**host, backup_dir);
      if (*backup) return cli::backup(**host, out_dir, encrypt);
      if (*restore) return cli::restore(**host, backup_dir, force);
      return 0;
    };
    int rc = run();
    // Under [audit] on_failure = "spool", an event the sink and the spool
    // both refused is gone: the command did its work, but must not say it
    // succeeded (the loss was logged above as "LOST n audit events").
    if (auto lost = strata::cli::audit_events_lost(**host); lost > 0) {
      fmt::print(stderr, "strata: error: {} audit event(s) of this command were lost: the audit sink and its spool "
                         "file both refused them\n", lost);
      return rc != 0 ? rc : 1;
    }
    return rc;
  } catch (const std::exception& e) {
    // Nothing should throw this far; if it does, one sentence, no stack trace.
    fmt::print(stderr, "strata: internal error: {}\n", e.what());
    return 1;
  }
}
