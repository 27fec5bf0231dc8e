#include "password_input.hpp"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>

namespace strata::cli {
namespace {

// One line from stdin, with terminal echo off while it is typed.
std::optional<std::string> read_line(bool hide) {
  termios saved{};
  bool restore = hide && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (restore) {
    termios quiet = saved;
    quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (restore) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::fputc('\n', stderr);
  }
  if (!got) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

sdk::Result<std::string> read_password(const char* prompt, bool confirm) {
  bool terminal = isatty(STDIN_FILENO) != 0;
  if (terminal) std::fprintf(stderr, "%s: ", prompt);
  auto first = read_line(terminal);
  if (!first || first->empty())
    return sdk::fail(sdk::ErrorCode::invalid_argument,
                     terminal ? "no password given" : "no password on stdin (pipe one line, or run on a terminal)");
  if (terminal && confirm) {
    std::fprintf(stderr, "again: ");
    auto second = read_line(true);
    if (!second || *second != *first) return sdk::fail(sdk::ErrorCode::invalid_argument, "the passwords differ");
  }
  return *first;
}

}  // namespace strata::cli
