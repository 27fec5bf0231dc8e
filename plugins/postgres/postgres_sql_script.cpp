#include "postgres_sql_script.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

namespace strata::postgres {
namespace {

bool space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Skips white space and comments from `i`; counts the lines it passes.
std::size_t skip_blank(std::string_view s, std::size_t i, int& line) {
  while (i < s.size()) {
    if (s[i] == '\n') ++line;
    if (space(s[i])) {
      ++i;
    } else if (s.substr(i, 2) == "--") {
      i = std::min(s.find('\n', i), s.size());
    } else if (s.substr(i, 2) == "/*") {
      std::size_t end = s.find("*/", i + 2);
      end = end == std::string_view::npos ? s.size() : end + 2;
      line += static_cast<int>(std::count(s.begin() + i, s.begin() + end, '\n'));
      i = end;
    } else {
      break;
    }
  }
  return i;
}

// The end of the quoted or commented run starting at `i`, or `i` when none starts there.
std::size_t skip_quoted(std::string_view s, std::size_t i) {
  char c = s[i];
  if (c == '\'' || c == '"') {
    for (std::size_t j = i + 1; j < s.size(); ++j)
      if (s[j] == c) {
        if (j + 1 < s.size() && s[j + 1] == c) ++j;  // '' or "" inside: an escaped quote
        else return j + 1;
      }
    return s.size();
  }
  if (s.substr(i, 2) == "--") return std::min(s.find('\n', i), s.size());
  if (s.substr(i, 2) == "/*") {
    std::size_t end = s.find("*/", i + 2);
    return end == std::string_view::npos ? s.size() : end + 2;
  }
  if (c == '$') {  // $$ or $tag$: a dollar-quoted body runs to the same tag
    std::size_t j = i + 1;
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
    if (j < s.size() && s[j] == '$') {
      std::string_view tag = s.substr(i, j - i + 1);
      std::size_t end = s.find(tag, j + 1);
      return end == std::string_view::npos ? s.size() : end + tag.size();
    }
  }
  return i;
}

}  // namespace

std::vector<SqlStatement> split_sql(std::string_view s) {
  std::vector<SqlStatement> out;
  int line = 1;
  std::size_t i = skip_blank(s, 0, line);
  std::size_t start = i;
  int start_line = line;
  while (i < s.size()) {
    if (std::size_t end = skip_quoted(s, i); end != i) {
      line += static_cast<int>(std::count(s.begin() + i, s.begin() + end, '\n'));
      i = end;
      continue;
    }
    if (s[i] == ';') {
      std::string text(s.substr(start, i - start));
      while (!text.empty() && space(text.back())) text.pop_back();
      if (!text.empty()) out.push_back({std::move(text), start_line});
      i = skip_blank(s, i + 1, line);
      start = i;
      start_line = line;
      continue;
    }
    if (s[i] == '\n') ++line;
    ++i;
  }
  std::string tail(s.substr(start));
  while (!tail.empty() && space(tail.back())) tail.pop_back();
  if (!tail.empty()) out.push_back({std::move(tail), start_line});
  return out;
}

std::string SqlStatement::summary(std::size_t width) const {
  std::string first = text.substr(0, text.find('\n'));
  if (first.size() < text.size() || first.size() > width) {
    if (first.size() > width) first.resize(width);
    first += "…";
  }
  return first;
}

std::string SqlStatement::creates() const {
  static const std::regex create(
      R"(^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:UNIQUE\s+)?(TABLE|INDEX|FUNCTION|EXTENSION)\s+(?:IF\s+NOT\s+EXISTS\s+)?("[^"]+"|[A-Za-z_][A-Za-z0-9_.]*))",
      std::regex::icase);
  std::smatch m;
  if (!std::regex_search(text, m, create)) return {};
  std::string kind = m[1], name = m[2];
  for (auto* part : {&kind, &name})
    std::transform(part->begin(), part->end(), part->begin(), [](unsigned char c) { return std::tolower(c); });
  if (name.size() > 1 && name.front() == '"') name = name.substr(1, name.size() - 2);
  return kind + " " + name;
}

}  // namespace strata::postgres
