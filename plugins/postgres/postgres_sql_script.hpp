#pragma once
// A migration's SQL file as its statements, so that each runs on its own and
// a failure names the statement (not the comment above it), and so that the
// seed adoption can tell which object each statement creates.

#include <string>
#include <string_view>
#include <vector>

namespace strata::postgres {

/// One statement of a script, without the comments before it.
struct SqlStatement {
  std::string text;  ///< the statement, up to and without its ';'
  int line = 0;      ///< the line (1-based) it starts on in the file

  /// Its first line, cut to `width` characters (with "…" when cut): how errors name it.
  std::string summary(std::size_t width = 60) const;
  /// The object it creates, lower case ("table users", "index idx_messages_sender",
  /// "function cleanup_old_messages", "extension uuid-ossp"); empty for anything else.
  std::string creates() const;
};

/// Splits `script` at the semicolons that end statements: not those inside
/// '…' or "…" quotes, $$…$$ or $tag$…$tag$ bodies, or -- and /* */ comments.
std::vector<SqlStatement> split_sql(std::string_view script);

}  // namespace strata::postgres
