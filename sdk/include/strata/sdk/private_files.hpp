#pragma once
// Files a plugin creates to hold private data (a database, an audit trail, a
// key) live in a directory no other user may write to: there, another user
// could plant a symlink under the file's name before it is created, and
// Strata would write into whatever it points at. Such files are also opened
// without following a symlink in their last component (O_NOFOLLOW).

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "strata/sdk/error.hpp"

namespace strata::sdk {

/// `invalid_argument` when the directory that holds (or will hold) `file`
/// exists and is writable by others; fine when it does not exist yet (the
/// caller creates it owner-only).
inline Result<void> check_private_directory(const std::filesystem::path& file) {
  std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  struct stat info {};
  if (::stat(dir.c_str(), &info) != 0) {
    if (errno == ENOENT) return {};
    return fail(ErrorCode::unavailable, "cannot examine directory " + dir.string() + ": " + std::strerror(errno));
  }
  if (info.st_mode & S_IWOTH) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return fail(ErrorCode::invalid_argument,
                "directory " + dir.string() + " has mode " + mode + ": others can write to it, and could plant a link as " +
                    file.filename().string() + "; keep Strata's files in a directory of their own (mode 0700)");
  }
  return {};
}

}  // namespace strata::sdk
