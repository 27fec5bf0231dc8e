#include "file_audit_json_lines.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace strata::file_audit {

sdk::Unexpected io_error(const std::filesystem::path& path, const std::string& doing, int error_number) {
  return sdk::fail(sdk::ErrorCode::unavailable,
                   "cannot " + doing + " audit file " + path.string() + ": " + std::strerror(error_number));
}

JsonLines::JsonLines(std::filesystem::path path, std::uintmax_t rotate_bytes, int keep, bool fsync_each_append)
    : path_(std::move(path)), rotate_bytes_(rotate_bytes), keep_(keep), fsync_(fsync_each_append) {}

std::filesystem::path JsonLines::rotated(int n) const { return path_.string() + "." + std::to_string(n); }

std::filesystem::path JsonLines::backed_up_marker() const { return path_.string() + ".backed-up"; }

sdk::Result<void> JsonLines::record_backed_up(const std::vector<std::filesystem::path>& originals,
                                              const std::vector<std::filesystem::path>& copies) const {
  std::string text;
  for (std::size_t i = 0; i < originals.size(); ++i) {
    struct stat original {};
    std::error_code ec;
    auto bytes = std::filesystem::file_size(copies[i], ec);  // a prefix of the original: it only grows
    if (ec || ::stat(originals[i].c_str(), &original) != 0) continue;
    text += std::to_string(original.st_ino) + " " + std::to_string(bytes) + "\n";
  }
  // Written whole, then renamed over the old marker: never half a list.
  auto temporary = backed_up_marker().string() + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return io_error(temporary, "create", errno);
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  int error_number = errno;
  ::close(fd);
  if (!written) return io_error(temporary, "write", error_number);
  if (::rename(temporary.c_str(), backed_up_marker().c_str()) != 0) return io_error(backed_up_marker(), "rename", errno);
  return {};
}

std::uintmax_t JsonLines::backed_up_bytes(const std::filesystem::path& file) const {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return 0;
  std::ifstream in(backed_up_marker());
  unsigned long long inode = 0, bytes = 0;
  while (in >> inode >> bytes)
    if (inode == st.st_ino) return bytes;
  return 0;
}

sdk::Result<void> JsonLines::rotate_if_needed() {
  std::error_code ec;
  auto size = std::filesystem::file_size(path_, ec);
  if (ec || size < rotate_bytes_) return {};
  // What rotation deletes is asked about first (events no backup holds).
  auto dropped = keep_ > 0 ? rotated(keep_) : path_;
  if (before_drop_ && std::filesystem::exists(dropped))
    if (auto ok = before_drop_(dropped, backed_up_bytes(dropped)); !ok) return ok;
  // path.(keep) goes; path.(n) -> path.(n+1); path -> path.1.
  std::filesystem::remove(rotated(keep_), ec);
  for (int n = keep_ - 1; n >= 1; --n)
    if (std::filesystem::exists(rotated(n))) std::filesystem::rename(rotated(n), rotated(n + 1), ec);
  if (keep_ > 0) std::filesystem::rename(path_, rotated(1), ec);
  else std::filesystem::remove(path_, ec);
  if (ec) return io_error(path_, "rotate", ec.value());
  return {};
}

sdk::Result<void> JsonLines::append(const std::string& lines) {
  return write_locked([&](const std::optional<std::string>&) -> sdk::Result<std::string> { return lines; }, false);
}

sdk::Result<void> JsonLines::append_after(const Compose& compose) { return write_locked(compose, true); }

void JsonLines::watch() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0) {
    seen_inode_ = st.st_ino;
    seen_size_ = st.st_size;
  }
}

sdk::Result<int> JsonLines::open_locked() {
  // Another process may rotate between our open and our lock: then the file
  // we locked is path.1, and the active file is opened again.
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return io_error(path_, "open", errno);
    if (::flock(fd, LOCK_EX) != 0) {
      int error_number = errno;
      ::close(fd);
      return io_error(path_, "lock", error_number);
    }
    struct stat held {}, active {};
    if (::fstat(fd, &held) == 0 && ::stat(path_.c_str(), &active) == 0 && held.st_ino == active.st_ino) return fd;
    ::close(fd);
  }
  return io_error(path_, "lock (it keeps being rotated)", EAGAIN);
}

sdk::Result<void> JsonLines::write_locked(const Compose& compose, bool shows_others) {
  if (auto ok = rotate_if_needed(); !ok) return ok;
  // A directory created here holds the audit trail: owner only.
  std::error_code ec;
  if (path_.has_parent_path() && std::filesystem::create_directories(path_.parent_path(), ec))
    std::filesystem::permissions(path_.parent_path(), std::filesystem::perms::owner_all, ec);
  auto locked = open_locked();
  if (!locked) return sdk::fail(locked.error());
  const int fd = *locked;
  auto fail_closing = [&](sdk::Error e) {
    ::close(fd);  // releases the lock
    return sdk::fail(std::move(e));
  };
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail_closing(io_error(path_, "stat", errno).error());
  // What other processes appended since this one last wrote or looked, and
  // the last byte (a line torn by a crash must not swallow the next record).
  std::optional<std::string> others;
  char last = '\n';
  if (st.st_size == 0) {
    others.emplace();
  } else {
    int reader = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);  // the locked descriptor is write-only
    if (reader < 0) return fail_closing(io_error(path_, "open", errno).error());
    if (shows_others && st.st_ino == seen_inode_ && st.st_size >= seen_size_) {
      others.emplace(static_cast<std::size_t>(st.st_size - seen_size_), '\0');
      if (::pread(reader, others->data(), others->size(), seen_size_) != static_cast<ssize_t>(others->size()))
        others.reset();
    }
    if (::pread(reader, &last, 1, st.st_size - 1) != 1) last = '\n';
    ::close(reader);
  }
  auto lines = compose(others);
  if (!lines) return fail_closing(lines.error());
  std::string data;
  if (last != '\n' && !lines->empty()) data.push_back('\n');
  data += *lines;
  std::size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_closing(io_error(path_, "write", errno).error());
    written += static_cast<std::size_t>(n);
  }
  if (fsync_ && !data.empty() && ::fsync(fd) != 0) return fail_closing(io_error(path_, "fsync", errno).error());
  // What others wrote counts as seen only once a caller was shown it.
  if (shows_others || (st.st_ino == seen_inode_ && st.st_size == seen_size_)) {
    seen_inode_ = st.st_ino;
    seen_size_ = st.st_size + static_cast<off_t>(written);
  }
  if (::close(fd) != 0) return io_error(path_, "close", errno);
  return {};
}

sdk::Result<void> JsonLines::scan(const std::function<void(std::string_view)>& on_line,
                                  const std::function<void(const std::filesystem::path&)>& on_torn) const {
  std::vector<std::filesystem::path> files;
  for (int n = keep_; n >= 1; --n)
    if (std::filesystem::exists(rotated(n))) files.push_back(rotated(n));
  if (std::filesystem::exists(path_)) files.push_back(path_);
  for (const auto& file : files) {
    if (!std::filesystem::is_regular_file(file)) return io_error(file, "read", EISDIR);
    std::ifstream in(file, std::ios::binary);
    if (!in) return io_error(file, "read", errno);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t start = 0;
    for (std::size_t end; (end = content.find('\n', start)) != std::string::npos; start = end + 1)
      if (end > start) on_line(std::string_view(content).substr(start, end - start));
    if (start < content.size()) on_torn(file);
  }
  return {};
}

sdk::Result<std::vector<std::string>> JsonLines::copy_to(const std::filesystem::path& dir,
                                                       const std::string& name) const {
  std::vector<std::string> written;
  std::vector<std::filesystem::path> originals, copies;
  for (int n = 0; n <= keep_; ++n) {
    std::filesystem::path from = n == 0 ? path_ : rotated(n);
    if (!std::filesystem::exists(from)) continue;
    std::string to = n == 0 ? name : name + "." + std::to_string(n);
    std::error_code ec;
    std::filesystem::copy_file(from, dir / to, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) return io_error(from, "copy", ec.value());
    std::filesystem::permissions(dir / to, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
    if (ec) return io_error(dir / to, "chmod", ec.value());
    written.push_back(to);
    originals.push_back(from);
    copies.push_back(dir / to);
  }
  // Nothing copied (no file yet, perhaps not even its directory): nothing newly held by a backup.
  if (originals.empty()) return written;
  if (auto recorded = record_backed_up(originals, copies); !recorded) return sdk::fail(recorded.error());
  return written;
}

sdk::Result<void> JsonLines::replace_from(const std::filesystem::path& dir, const std::string& name) {
  std::error_code ec;
  if (path_.has_parent_path()) std::filesystem::create_directories(path_.parent_path(), ec);
  std::vector<std::filesystem::path> targets, sources;
  for (int n = 0; n <= keep_; ++n) {
    std::filesystem::path target = n == 0 ? path_ : rotated(n);
    std::filesystem::path source = dir / (n == 0 ? name : name + "." + std::to_string(n));
    if (std::filesystem::exists(source)) {
      targets.push_back(target);
      sources.push_back(source);
      std::filesystem::copy_file(source, target, std::filesystem::copy_options::overwrite_existing, ec);
      if (ec) return io_error(target, "restore", ec.value());
      // The trail is owner-only, whatever mode the backup's copy had.
      std::filesystem::permissions(target, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
      if (ec) return io_error(target, "chmod", ec.value());
    } else {
      std::filesystem::remove(target, ec);  // nothing of the old state stays
      if (ec) return io_error(target, "remove", ec.value());
    }
  }
  return record_backed_up(targets, sources);  // what a backup restored is held by that backup
}

}  // namespace strata::file_audit
