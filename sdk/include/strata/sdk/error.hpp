#pragma once
// Errors as values: every call across the plugin boundary returns Result<T>.

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace strata::sdk {

/// Portable error codes; callers branch on these, never on driver errors.
enum class ErrorCode {
  not_found,         ///< the record, key or file does not exist
  already_exists,    ///< a unique constraint would be violated
  invalid_argument,  ///< the caller's input or configuration is wrong
  unavailable,       ///< the backend cannot be reached (retry may help); a write's outcome is unknown
  timeout,           ///< the backend did not answer in time (retry may help); a write's outcome is unknown
  auth_failed,       ///< authentication failed: wrong password or AEAD tag mismatch
  conflict,          ///< the state changed underneath, or a reference is dangling; also a write the
                     ///< backend answered and refused, so nothing was written (retryable when waiting
                     ///< may help: a read-only server, a full disk, a store out of memory)
  unsupported,       ///< the plugin does not offer this operation
  internal,          ///< a bug or an unexpected exception inside a plugin
  key_destroyed,     ///< (SDK 1.11) the data key it needs was destroyed (an erased user): never openable again
};

/// The code's name as written in logs and messages ("not_found", ...).
constexpr std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::already_exists: return "already_exists";
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::unavailable: return "unavailable";
    case ErrorCode::timeout: return "timeout";
    case ErrorCode::auth_failed: return "auth_failed";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::internal: return "internal";
    case ErrorCode::key_destroyed: return "key_destroyed";
  }
  return "unknown";
}

/// `text` fit to quote in an error message or a log line: control characters
/// escaped (`\x0a`), and at most `max` bytes of it, a longer one cut with a
/// note of its length. Input a caller controls (a username, an email, a
/// stored value) goes into messages through it, so an error never carries a
/// raw line break or a megabyte back.
inline std::string excerpt(std::string_view text, std::size_t max = 4096) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() < max ? text.size() : max);
  for (unsigned char c : text.substr(0, max)) {
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > max) out += "… (" + std::to_string(text.size()) + " bytes in all)";
  return out;
}

/// Whether retrying the same call may succeed, by default, for a code.
constexpr bool retryable_by_default(ErrorCode code) noexcept {
  return code == ErrorCode::unavailable || code == ErrorCode::timeout;
}

/// An error crossing the plugin boundary. Plugin constructors may also throw
/// it; the generated trampolines turn it back into a value.
struct Error {
  ErrorCode code = ErrorCode::internal;  ///< portable code
  std::string message;                   ///< one sentence saying what is wrong
  std::string plugin;                    ///< plugin that produced it (filled by the trampoline)
  bool retryable = false;                ///< whether a retry can help

  /// "plugin: message (code)", or "message (code)" without a plugin.
  std::string describe() const {
    std::string out = plugin.empty() ? message : plugin + ": " + message;
    out += " (";
    out += to_string(code);
    out += ")";
    return out;
  }
};

/// The result of every SDK call.
template <class T>
using Result = std::expected<T, Error>;

/// The error side of a Result, as returned by fail().
using Unexpected = std::unexpected<Error>;

/// Builds the error side of a Result: `return fail(ErrorCode::not_found, "no user " + id);`
inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
  return std::unexpected(Error{code, std::move(message), {}, retryable_by_default(code)});
}

/// Forwards an existing error (for example one returned by a nested call).
inline std::unexpected<Error> fail(Error error) { return std::unexpected(std::move(error)); }

}  // namespace strata::sdk
