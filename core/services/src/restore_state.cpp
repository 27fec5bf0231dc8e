// The restore lock and the restore-in-progress marker (restore_state.hpp).

#include "restore_state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

#include <nlohmann/json.hpp>

namespace strata::detail {
namespace {

namespace fs = std::filesystem;
using sdk::ErrorCode;
using sdk::fail;

constexpr const char* lock_file = "restore.lock";
constexpr const char* marker_file = "restore-in-progress.json";

}  // namespace

sdk::Result<RestoreLock> RestoreLock::take(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path path = dir / lock_file;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail(ErrorCode::unavailable, "cannot open " + path.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK)
      return fail(ErrorCode::conflict, "another restore is running on this data directory (" + path.string() +
                                           " is locked); wait for it to finish");
    return fail(ErrorCode::unavailable, "cannot lock " + path.string() + ": " + std::strerror(error));
  }
  return RestoreLock(fd);
}

RestoreLock::RestoreLock(RestoreLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

RestoreLock::~RestoreLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

std::optional<RestoreInProgress> read_restore_marker(const fs::path& dir) {
  std::ifstream in(dir / marker_file);
  if (!in) return std::nullopt;
  auto json = nlohmann::json::parse(in, nullptr, false);
  RestoreInProgress restore{"(unreadable marker)", "", {}};
  if (json.is_object()) {
    restore.backup_dir = json.value("backup_dir", restore.backup_dir);
    restore.manifest_sha256 = json.value("manifest_sha256", "");
    restore.started_at = sdk::Timestamp::from_micros(json.value("started_at_us", std::int64_t{0}));
  }
  return restore;  // a torn marker still says a restore was cut off
}

sdk::Result<void> write_restore_marker(const fs::path& dir, const RestoreInProgress& restore) {
  const fs::path path = dir / marker_file;
  std::string text = nlohmann::json{{"backup_dir", restore.backup_dir},
                                    {"manifest_sha256", restore.manifest_sha256},
                                    {"started_at_us", restore.started_at.micros()}}
                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                     "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail(ErrorCode::unavailable, "cannot write " + path.string() + ": " + std::strerror(errno));
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  int error = errno;
  ::close(fd);
  if (!written) return fail(ErrorCode::unavailable, "cannot write " + path.string() + ": " + std::strerror(error));
  return {};
}

void remove_restore_marker(const fs::path& dir) {
  std::error_code ec;
  fs::remove(dir / marker_file, ec);
}

}  // namespace strata::detail
