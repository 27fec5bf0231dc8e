// ${VAR} / ${VAR:-default} interpolation of config strings.

#include <string>

#include "config.hpp"

namespace strata {
namespace {

using sdk::ErrorCode;
using sdk::fail;

// Defaults nest (${A:-${B:-c}}); past this depth the text is refused rather
// than recursed into, so hostile input cannot exhaust the stack.
constexpr int max_nesting = 32;

bool valid_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// Expands text[pos..] up to an unmatched '}' (when nested) or the end.
// On return `pos` is at the '}' (nested) or text.size(). With `evaluate`
// false it only checks the syntax: as in the shell, a default that is not
// used is not expanded, so its unset variables are no error.
sdk::Result<std::string> expand(std::string_view text, std::size_t& pos, int depth, const EnvLookup& env,
                                bool evaluate = true) {
  const bool nested = depth > 0;
  if (depth > max_nesting)
    return fail(ErrorCode::invalid_argument,
                "'${…:-…}' defaults nest more than " + std::to_string(max_nesting) + " levels deep");
  std::string out;
  while (pos < text.size()) {
    char c = text[pos];
    if (nested && c == '}') return out;
    if (c != '$') {
      out.push_back(c);
      ++pos;
      continue;
    }
    if (pos + 1 < text.size() && text[pos + 1] == '$') {  // $$ is a literal $
      out.push_back('$');
      pos += 2;
      continue;
    }
    if (pos + 1 >= text.size() || text[pos + 1] != '{') {  // a lone $ stays
      out.push_back('$');
      ++pos;
      continue;
    }
    pos += 2;
    std::size_t start = pos;
    while (pos < text.size() && valid_name_char(text[pos])) ++pos;
    std::string name(text.substr(start, pos - start));
    if (name.empty())
      return fail(ErrorCode::invalid_argument, "'${' must be followed by a variable name");
    if (pos >= text.size())
      return fail(ErrorCode::invalid_argument, "unterminated '${" + name + "'");
    std::optional<std::string> value = evaluate ? env(name) : std::optional<std::string>("");
    if (text[pos] == '}') {
      ++pos;
      if (!value)
        return fail(ErrorCode::invalid_argument,
                    "environment variable '" + name +
                        "' is not set and has no default (write ${" + name + ":-default})");
      out += *value;
      continue;
    }
    if (text.substr(pos, 2) != ":-")
      return fail(ErrorCode::invalid_argument,
                  "unexpected character after '${" + name + "': use ${NAME} or ${NAME:-default}");
    pos += 2;
    bool use_fallback = evaluate && (!value || value->empty());
    auto fallback = expand(text, pos, depth + 1, env, use_fallback);
    if (!fallback) return fallback;
    if (pos >= text.size())
      return fail(ErrorCode::invalid_argument, "unterminated '${" + name + ":-'");
    ++pos;  // the closing '}'
    // As in the shell, ':-' also replaces an empty value.
    out += use_fallback ? *fallback : value.value_or("");
  }
  if (nested) return fail(ErrorCode::invalid_argument, "unterminated '${'");
  return out;
}

}  // namespace

sdk::Result<std::string> interpolate(std::string_view text, const EnvLookup& env) {
  std::size_t pos = 0;
  return expand(text, pos, 0, env);
}

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

}  // namespace strata
