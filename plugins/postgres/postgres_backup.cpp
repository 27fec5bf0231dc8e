#include "postgres_backup.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "strata/sdk/uuid.hpp"

extern char** environ;

namespace strata::postgres {
namespace {

using sdk::ErrorCode;
using sdk::fail;

std::string quote_conninfo_value(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// A passfile line's fields escape ':' and '\' with a backslash.
std::string passfile_field(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// A private passfile holding one password, removed with the object.
class Passfile {
 public:
  static sdk::Result<std::unique_ptr<Passfile>> write(const std::string& password) {
    auto path = std::filesystem::temp_directory_path() / ("strata-pgpass-" + sdk::Uuid::generate().str());
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fail(ErrorCode::unavailable, "cannot create a passfile in " + path.parent_path().string() +
                                                        ": " + std::strerror(errno));
    auto file = std::unique_ptr<Passfile>(new Passfile(path));
    std::string line = "*:*:*:*:" + passfile_field(password) + "\n";
    bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(fd);
    if (!written) return fail(ErrorCode::unavailable, "cannot write the passfile " + path.string());
    return file;
  }
  ~Passfile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit Passfile(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

bool inherited(const std::string& name) {
  static const char* const exact[] = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR"};
  for (const char* e : exact)
    if (name == e) return true;
  return name.starts_with("LC_") || name.starts_with("PG");
}

}  // namespace

sdk::Result<std::vector<std::pair<std::string, std::string>>> child_keywords(const Settings& settings) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [keyword, value] : settings.keywords) {
    if (!(settings.expand_conninfo && keyword == "dbname")) {
      out.emplace_back(keyword, value);
      continue;
    }
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(value.c_str(), &error);
    if (!options) {
      std::string why = error ? error : "out of memory";
      PQfreemem(error);
      return fail(ErrorCode::invalid_argument, "conninfo: " + why);
    }
    for (PQconninfoOption* o = options; o->keyword; ++o)
      if (o->val && *o->val) out.emplace_back(o->keyword, o->val);
    PQconninfoFree(options);
  }
  // A keyword given twice: the later value wins, as with PQconnectdbParams' expand_dbname.
  std::vector<std::pair<std::string, std::string>> unique;
  for (const auto& [keyword, value] : out) {
    auto same = std::find_if(unique.begin(), unique.end(), [&](const auto& kv) { return kv.first == keyword; });
    if (same != unique.end()) same->second = value;
    else unique.emplace_back(keyword, value);
  }
  return unique;
}

std::string conninfo_string(const std::vector<std::pair<std::string, std::string>>& keywords) {
  std::string out;
  for (const auto& [keyword, value] : keywords)
    out += (out.empty() ? "" : " ") + keyword + "=" + quote_conninfo_value(value);
  return out;
}

std::vector<std::string> child_environment(char** parent) {
  std::vector<std::string> env;
  for (char** e = parent; *e; ++e) {
    std::string entry(*e);
    if (inherited(entry.substr(0, entry.find('=')))) env.push_back(entry);
  }
  return env;
}

sdk::Result<void> run_pg_tool(const std::string& tool, const std::vector<std::string>& args, const Settings& settings) {
  auto keywords = child_keywords(settings);
  if (!keywords) return sdk::fail(keywords.error());
  std::optional<std::string> password;
  std::erase_if(*keywords, [&](const auto& kv) {
    if (kv.first != "password") return false;
    password = kv.second;
    return true;
  });
  std::vector<std::string> env = child_environment(environ);
  std::unique_ptr<Passfile> passfile;
  if (password) {
    auto written = Passfile::write(*password);
    if (!written) return sdk::fail(written.error());
    passfile = std::move(*written);
    // The configured password wins, as it does on the plugin's own connections.
    std::erase_if(env, [](const std::string& e) { return e.starts_with("PGPASSWORD=") || e.starts_with("PGPASSFILE="); });
    env.push_back("PGPASSFILE=" + passfile->path().string());
  }

  std::vector<std::string> full_args = args;
  full_args.push_back("--dbname=" + conninfo_string(*keywords));
  std::vector<char*> argv{const_cast<char*>(tool.c_str())};
  for (auto& a : full_args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int err[2];
  if (::pipe2(err, O_CLOEXEC) != 0) return fail(ErrorCode::internal, std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, tool.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(err[1]);
  if (rc != 0) {
    ::close(err[0]);
    if (rc == ENOENT)
      return fail(ErrorCode::unavailable, "'" + tool + "' was not found (install postgresql-client, or set "
                                          "backup.pg_dump / backup.pg_restore in [storage] to its path)");
    return fail(ErrorCode::unavailable, "cannot start '" + tool + "': " + std::strerror(rc));
  }
  std::string messages;
  char buffer[4096];
  for (ssize_t n; (n = ::read(err[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (messages.size() < 16384) messages.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(err[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  while (!messages.empty() && (messages.back() == '\n' || messages.back() == ' ')) messages.pop_back();
  return fail(ErrorCode::unavailable, "'" + tool + "' failed (" +
                                          (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                                             : "signal " + std::to_string(WTERMSIG(status))) +
                                          "): " + messages);
}

}  // namespace strata::postgres
