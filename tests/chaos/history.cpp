#include "history.hpp"

#include "disk_faults.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace strata::chaos {
namespace {

// Journal lines are tab-separated; texts and names hold no tab or newline.
std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line);
  for (std::string field; std::getline(in, field, '\t');) out.push_back(field);
  return out;
}

}  // namespace

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

History::History(const std::filesystem::path& journal) {
  journal_fd_ = ::open(journal.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (journal_fd_ < 0) throw std::runtime_error("cannot open the journal " + journal.string());
}

History::~History() {
  if (journal_fd_ >= 0) ::close(journal_fd_);
}

void History::journal(const std::string& line) {
  if (journal_fd_ < 0) return;
  std::string whole = line + "\n";
  // One write per line: O_APPEND keeps lines whole between the threads.
  HarnessIo spared;  // --disk fails the process's writes, not the harness's record of them
  if (::write(journal_fd_, whole.data(), whole.size()) != static_cast<ssize_t>(whole.size()))
    throw std::runtime_error("a journal line was not written whole");
}

void History::add(ListOp op) {
  op.label = fmt::format("{} #{}", op.label, list_ops.size());
  list_ops.push_back(std::move(op));
}

void History::sending(const ListOp& op) {
  {
    std::lock_guard lock(mutex);
    tried.insert(op.value);
  }
  journal(fmt::format("send\t{}\t{}\t{}\t{}", op.key, op.value, op.invoked_ns, op.label));
}

void History::sent(ListOp op, const std::optional<sdk::Uuid>& id) {
  journal(id ? fmt::format("sent\t{}\t{}\t{}", op.value, id->str(), op.completed_ns)
             : fmt::format("unsent\t{}", op.value));
  std::lock_guard lock(mutex);
  if (id) acked.emplace(op.value, *id);
  else unknown.insert(op.value);
  if (!id) op.label += " (outcome unknown)";
  op.completed = id.has_value();
  add(std::move(op));
}

void History::read(ListOp op) {
  std::string line = fmt::format("read\t{}\t{}\t{}\t{}", op.key, op.invoked_ns, op.completed_ns, op.label);
  for (const auto& v : op.observed) line += "\t" + v;
  journal(line);
  std::lock_guard lock(mutex);
  add(std::move(op));
}

void History::violation(const std::string& what) {
  journal("violation\t" + what);
  std::lock_guard lock(mutex);
  violations.push_back(what);
}

void History::backup(const TakenBackup& taken) {
  std::string line = fmt::format("backup\t{}\t{}", taken.dir, taken.invoked_ns);
  for (const auto& [table, n] : taken.counts) line += fmt::format("\t{}={}", table, n);
  journal(line);
  std::lock_guard lock(mutex);
  backups.push_back(taken);
}

void History::disk_faults_injected(std::uint64_t n) {
  journal(fmt::format("disk\t{}", n));
  disk_faults += n;
}

void History::read_journals(const std::filesystem::path& dir, History& into) {
  std::vector<std::filesystem::path> journals;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().filename().string().starts_with("history-")) journals.push_back(entry.path());
  std::sort(journals.begin(), journals.end());
  for (const auto& path : journals) {
    std::map<std::string, ListOp> pending;  // text -> a send tried, not yet answered
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      auto f = fields(line);
      if (f.empty()) continue;
      if (f[0] == "send" || f[0] == "read") ++into.ops;
      if (f[0] == "send" && f.size() == 5) {
        ListOp op{ListOp::Kind::append, f[1], f[2], {}, false, std::stoll(f[3]), 0, f[4]};
        into.tried.insert(op.value);
        pending[op.value] = std::move(op);
      } else if ((f[0] == "sent" && f.size() == 4) || (f[0] == "unsent" && f.size() == 2)) {
        auto it = pending.find(f[1]);
        if (it == pending.end()) continue;
        auto op = std::move(it->second);
        pending.erase(it);
        if (f[0] == "sent") op.completed_ns = std::stoll(f[3]);
        std::optional<sdk::Uuid> id;
        if (f[0] == "sent") id = sdk::Uuid::parse(f[2]);
        if (!id) ++into.failed_ops;
        into.sent(std::move(op), id);
      } else if (f[0] == "read" && f.size() >= 5) {
        ListOp op{ListOp::Kind::read, f[1], {}, {}, true, std::stoll(f[2]), std::stoll(f[3]), f[4]};
        op.observed.assign(f.begin() + 5, f.end());
        into.read(std::move(op));
      } else if (f[0] == "violation" && f.size() == 2) {
        into.violation(f[1]);
      } else if (f[0] == "backup" && f.size() >= 3) {
        TakenBackup taken{f[1], std::stoll(f[2]), {}};
        for (std::size_t i = 3; i < f.size(); ++i)
          if (auto eq = f[i].rfind('='); eq != std::string::npos)
            taken.counts[f[i].substr(0, eq)] = std::stoull(f[i].substr(eq + 1));
        into.backup(taken);
      } else if (f[0] == "disk" && f.size() == 2) {
        into.disk_faults += std::stoull(f[1]);
      }
    }
    // Tried, never answered: the process was killed while the send was in flight.
    for (auto& [text, op] : pending) {
      op.label += " (killed in flight)";
      into.sent(std::move(op), std::nullopt);
    }
  }
}

}  // namespace strata::chaos
