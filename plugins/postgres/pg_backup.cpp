#include "pg_backup.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

extern char** environ;

namespace strata::postgres {
namespace {

using sdk::ErrorCode;
using sdk::fail;

// libpq keywords and the environment variables that carry them.
const std::map<std::string, std::string> keyword_variables = {
    {"host", "PGHOST"},         {"hostaddr", "PGHOSTADDR"}, {"port", "PGPORT"},
    {"user", "PGUSER"},         {"password", "PGPASSWORD"}, {"sslmode", "PGSSLMODE"},
    {"options", "PGOPTIONS"},   {"application_name", "PGAPPNAME"}, {"connect_timeout", "PGCONNECT_TIMEOUT"}};

std::string quote_conninfo_value(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::string dbname_argument(const Settings& settings) {
  for (const auto& [keyword, value] : settings.keywords)
    if (keyword == "dbname") return settings.expand_conninfo ? value : "dbname=" + quote_conninfo_value(value);
  return "dbname=postgres";
}

sdk::Result<void> run_pg_tool(const std::string& tool, const std::vector<std::string>& args, const Settings& settings) {
  // The environment: ours, minus any PG* variable we set, plus the connection's.
  std::vector<std::string> env;
  std::map<std::string, std::string> ours;
  if (!settings.expand_conninfo)
    for (const auto& [keyword, value] : settings.keywords)
      if (auto it = keyword_variables.find(keyword); it != keyword_variables.end()) ours[it->second] = value;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    if (!ours.contains(name)) env.push_back(entry);
  }
  for (const auto& [name, value] : ours) env.push_back(name + "=" + value);

  std::vector<char*> argv{const_cast<char*>(tool.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
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
