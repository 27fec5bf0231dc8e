// Suggestions for misspelt keys ("did you mean 'host'?").

#include <algorithm>
#include <vector>

#include "config.hpp"

namespace strata {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::optional<std::string> nearest_name(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const auto& candidate : candidates) {
    std::size_t d = edit_distance(word, candidate);
    if (!best || d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  // A typo changes a few characters; further than that, a suggestion misleads.
  std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  if (best && best_distance <= limit) return best;
  return std::nullopt;
}

sdk::Unexpected unknown_key_error(const std::string& key, const SourcePos& pos, const std::string& where,
                                  const std::vector<std::string>& valid) {
  std::string message = pos.str() + ": unknown key '" + key + "' in " + where;
  if (auto near = nearest_name(key, valid)) {
    message += "; did you mean '" + *near + "'?";
  } else {
    message += "; valid keys:";
    for (const auto& v : valid) message += " " + v;
  }
  return sdk::fail(sdk::ErrorCode::invalid_argument, message);
}

}  // namespace strata
