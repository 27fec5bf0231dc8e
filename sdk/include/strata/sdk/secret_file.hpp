#pragma once
// Reading a small secret file (a cipher key, a password) so that a wrong path
// can neither hang nor mislead: the file is opened without blocking (a FIFO
// or a device answers at once), checked on the opened descriptor (no race
// between the check and the read), and must be a regular file of bounded size.
// Symlinks are followed, as mounted secrets are links; a loop is an error.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "strata/sdk/error.hpp"

namespace strata::sdk {

struct SecretFileRules {
  std::size_t max_bytes = 64 * 1024;
  /// Refuse a file group or others may read or write (a key file: it would leak every message).
  bool owner_only = false;
};

/// The content of the secret file `path`; `invalid_argument` naming the path
/// and what is wrong otherwise ("is a FIFO, not a regular file", "has mode 0644…").
inline Result<std::string> read_secret_file(const std::string& path, SecretFileRules rules = {}) {
  auto refuse = [&](const std::string& why) {
    return fail(ErrorCode::invalid_argument, "secret file '" + path + "' " + why);
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) return refuse("is a symlink loop (too many levels of symbolic links)");
    return fail(ErrorCode::invalid_argument, "cannot read secret file '" + path + "': " + std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) return refuse(std::string("cannot be examined: ") + std::strerror(errno));
  if (!S_ISREG(info.st_mode)) {
    const char* kind = S_ISDIR(info.st_mode)    ? "a directory"
                       : S_ISFIFO(info.st_mode) ? "a FIFO"
                       : S_ISSOCK(info.st_mode) ? "a socket"
                       : S_ISCHR(info.st_mode)  ? "a character device"
                       : S_ISBLK(info.st_mode)  ? "a block device"
                                                : "not a file";
    return refuse(std::string("is ") + kind + ", not a regular file");
  }
  if (rules.owner_only && (info.st_mode & (S_IRWXG | S_IRWXO))) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return refuse(std::string("has mode ") + mode + ": group or others can read it; run `chmod 600 " + path + "`");
  }
  if (static_cast<std::size_t>(info.st_size) > rules.max_bytes)
    return refuse("is larger than " + std::to_string(rules.max_bytes) + " bytes: not a secret");
  std::string content(static_cast<std::size_t>(info.st_size), '\0');
  std::size_t got = 0;
  while (got < content.size()) {
    ssize_t n = ::read(fd, content.data() + got, content.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return refuse(std::string("cannot be read: ") + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  content.resize(got);
  return content;
}

}  // namespace strata::sdk
