#pragma once
// An append-only JSON-lines file with size-based rotation: path, path.1, path.2, ...

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "strata/sdk/error.hpp"

namespace strata::file_audit {

class JsonLines {
 public:
  /// `keep`: how many rotated files to keep besides the active one.
  JsonLines(std::filesystem::path path, std::uintmax_t rotate_bytes, int keep, bool fsync_each_append);

  /// Appends lines (each ending in '\n') with one write, fsync'd if configured;
  /// rotates first when the active file is over rotate_bytes. A file whose
  /// last line was torn by a crash gets a newline first, so new lines start clean.
  sdk::Result<void> append(const std::string& lines);

  /// What to append, given what other processes appended to the active file
  /// since this object last wrote to it or watch()ed it (nullopt: unknown,
  /// because the file was rotated or replaced meanwhile; read it all).
  using Compose = std::function<sdk::Result<std::string>(const std::optional<std::string>& others)>;
  /// append(), with the lines composed while an exclusive lock (flock) on the
  /// active file is held, which every append of every process takes: no one
  /// appends between what `compose` was shown and what it returns.
  sdk::Result<void> append_after(const Compose& compose);
  /// Remembers the active file as it is now: what others append later is
  /// what the next append_after() shows.
  void watch();

  /// Calls `on_line` for every complete line, oldest file first. A line that
  /// is not complete (no newline: torn by a crash) is reported to `on_torn`.
  sdk::Result<void> scan(const std::function<void(std::string_view)>& on_line,
                         const std::function<void(const std::filesystem::path&)>& on_torn) const;

  /// Copies the active file and the rotated ones into `dir` as `name`,
  /// `name`.1, … (the same numbering); returns the names written.
  sdk::Result<std::vector<std::string>> copy_to(const std::filesystem::path& dir, const std::string& name) const;
  /// Replaces the active and rotated files with what copy_to wrote into `dir` under `name`.
  sdk::Result<void> replace_from(const std::filesystem::path& dir, const std::string& name);

  const std::filesystem::path& path() const { return path_; }

  /// Called before rotation deletes `file` (the oldest generation), with how
  /// many of its first bytes the last copy_to (a backup) or replace_from (a
  /// restore) holds. An error stops the rotation: nothing is deleted and the
  /// append fails with it.
  using BeforeDrop = std::function<sdk::Result<void>(const std::filesystem::path& file, std::uintmax_t backed_up_bytes)>;
  void before_drop(BeforeDrop check) { before_drop_ = std::move(check); }

 private:
  std::filesystem::path rotated(int n) const;
  sdk::Result<void> rotate_if_needed();
  // Which files the last backup or restore holds, and how much of each: one
  // "inode bytes" line per file in path.backed-up (an inode survives the
  // renames of rotation; the files only grow).
  std::filesystem::path backed_up_marker() const;
  sdk::Result<void> record_backed_up(const std::vector<std::filesystem::path>& originals,
                                     const std::vector<std::filesystem::path>& copies) const;
  std::uintmax_t backed_up_bytes(const std::filesystem::path& file) const;

  // The active file, locked against every other appender; the descriptor.
  sdk::Result<int> open_locked();
  // append() and append_after(): `shows_others` reads what others appended for `compose`.
  sdk::Result<void> write_locked(const Compose& compose, bool shows_others);

  std::filesystem::path path_;
  ino_t seen_inode_ = 0;  // the active file as this object last left it
  off_t seen_size_ = 0;
  std::uintmax_t rotate_bytes_;
  int keep_;
  bool fsync_;
  BeforeDrop before_drop_;
};

/// `unavailable` naming the file and the system's reason.
sdk::Unexpected io_error(const std::filesystem::path& path, const std::string& doing, int error_number);

}  // namespace strata::file_audit
