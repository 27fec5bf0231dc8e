// `strata watch USER`: a user's new messages as they arrive, decrypted, in
// the order they committed (Messages::wait over the per-recipient sequence).
// With --cursor-file the position survives restarts: it is written (to a
// temporary file, then renamed) after each batch printed, so a watcher
// killed at any moment resumes without losing or repeating a message it
// finished printing.

#include "watch_command.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "command_registry.hpp"
#include "open_host.hpp"
#include "output.hpp"
#include "strata/services.hpp"

namespace strata::cli {
namespace {

sdk::Result<InboxCursor> read_cursor(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return InboxCursor{};  // none yet: from the start
  std::string text;
  std::getline(in, text);
  auto cursor = InboxCursor::parse(text);
  if (!cursor)
    return sdk::fail(sdk::ErrorCode::invalid_argument, file.string() + ": " + cursor.error().message);
  return cursor;
}

sdk::Result<void> write_cursor(const std::filesystem::path& file, const InboxCursor& cursor) {
  const std::filesystem::path temporary = file.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << cursor.str() << "\n";
    out.flush();
    if (!out)
      return sdk::fail(sdk::ErrorCode::unavailable, "cannot write " + temporary.string() + ": " + std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(temporary, file, ec);
  if (ec) return sdk::fail(sdk::ErrorCode::unavailable, "cannot replace " + file.string() + ": " + ec.message());
  return {};
}

}  // namespace

int watch(const Host& host, const WatchOptions& options) {
  InboxCursor cursor;
  if (!options.cursor_file.empty()) {
    auto stored = read_cursor(options.cursor_file);
    if (!stored) return report_error(stored.error());
    cursor = *stored;
  }
  auto services = open_services(host);
  if (!services) return 1;
  auto user = services->users().by_username(options.name);
  if (!user) return report_error(user.error());
  std::size_t printed = 0;
  const auto quiet_limit = options.idle_timeout_s ? std::chrono::milliseconds(*options.idle_timeout_s * 1000)
                                                  : std::chrono::milliseconds(std::chrono::hours(24));
  for (;;) {
    auto update = services->messages().wait(user->id, cursor, quiet_limit, Origin{});
    if (!update) return report_error(update.error());
    if (update->gap)
      fmt::print(stderr, "strata: messages after cursor {} are gone (purged, or the storage was restored): "
                         "continuing from {}; `strata inbox {}` shows what is kept\n",
                 cursor.str(), update->next.str(), printable(options.name));
    for (const auto& entry : update->entries) {
      auto sender = services->users().get(entry.envelope.sender_id);
      fmt::print("{} {} {}: {}\n", entry.envelope.created_at.iso8601(), entry.envelope.id.str(),
                 sender ? printable(sender->username) : entry.envelope.sender_id.str(),
                 entry.text ? printable(*entry.text) : "[refused: " + entry.text.error().message + "]");
      ++printed;
    }
    std::fflush(stdout);
    const bool quiet = !update->gap && update->entries.empty();
    if (!options.cursor_file.empty() && update->next != cursor)
      if (auto written = write_cursor(options.cursor_file, update->next); !written) return report_error(written.error());
    cursor = update->next;
    if (options.count && printed >= *options.count) return 0;
    if (quiet && options.idle_timeout_s) return 0;  // nothing new for --idle-timeout seconds
  }
}

void add_watch_command(Registry& registry) {
  auto w = std::make_shared<WatchOptions>();
  auto* watch_command =
      registry.app().add_subcommand("watch", "Print a user's new messages as they arrive, decrypted, in commit order");
  watch_command->add_option("name", w->name, "username")->required();
  watch_command->add_option("--cursor-file", w->cursor_file,
                            "keep the position here: a restart resumes after the last message printed");
  watch_command->add_option("--count", w->count, "stop after this many messages")->check(CLI::PositiveNumber);
  watch_command->add_option("--idle-timeout", w->idle_timeout_s, "stop after this many seconds without a new message")
      ->check(CLI::PositiveNumber);
  registry.on(watch_command, [w](const Host& host, const auto&) { return watch(host, *w); });
}

}  // namespace strata::cli
