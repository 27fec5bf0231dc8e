#pragma once
// UTC timestamps with microsecond precision (PostgreSQL's TIMESTAMP precision).

#include <chrono>
#include <compare>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace strata::sdk {

/// Microseconds since the Unix epoch, UTC.
class Timestamp {
 public:
  /// The epoch.
  constexpr Timestamp() noexcept = default;

  /// From microseconds since the epoch.
  static constexpr Timestamp from_micros(std::int64_t micros) noexcept { return Timestamp(micros); }

  /// From a system_clock time point, truncated to microseconds.
  static Timestamp from(std::chrono::system_clock::time_point tp) noexcept {
    return Timestamp(
        std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count());
  }

  /// The current wall-clock time.
  static Timestamp now() noexcept { return from(std::chrono::system_clock::now()); }

  /// Later and earlier than every other time: PostgreSQL's 'infinity' and
  /// '-infinity' (a seed row may hold them, e.g. a message that never
  /// expires). Printed and parsed as those words.
  static constexpr Timestamp infinity() noexcept { return Timestamp(std::numeric_limits<std::int64_t>::max()); }
  static constexpr Timestamp minus_infinity() noexcept { return Timestamp(std::numeric_limits<std::int64_t>::min()); }
  constexpr bool is_infinite() const noexcept { return *this == infinity() || *this == minus_infinity(); }

  /// Parses "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (a space may replace the T); nullopt otherwise.
  static std::optional<Timestamp> parse(std::string_view text) {
    if (text == "infinity") return infinity();
    if (text == "-infinity") return minus_infinity();
    std::string s(text);
    int year, month, day, hour, minute, second, consumed = 0;
    char sep;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &year, &month, &day, &sep, &hour,
                    &minute, &second, &consumed) != 7 ||
        (sep != 'T' && sep != ' ') || consumed != 19)
      return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
      return std::nullopt;
    std::int64_t micros = 0;
    std::size_t i = 19;
    if (i < s.size() && s[i] == '.') {
      int digits = 0;
      for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits) {
        if (digits < 6) micros = micros * 10 + (s[i] - '0');
      }
      if (digits == 0) return std::nullopt;
      for (; digits < 6; ++digits) micros *= 10;
    }
    if (i < s.size() && s[i] == 'Z') ++i;
    if (i != s.size()) return std::nullopt;
    std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second;
    return Timestamp(secs * 1'000'000 + micros);
  }

  /// ISO 8601 with microseconds: "2026-11-25T00:44:17.123456Z"; "infinity"
  /// and "-infinity" for those two.
  std::string iso8601() const {
    if (*this == infinity()) return "infinity";
    if (*this == minus_infinity()) return "-infinity";
    std::int64_t secs = micros_ >= 0 ? micros_ / 1'000'000 : (micros_ - 999'999) / 1'000'000;
    std::int64_t frac = micros_ - secs * 1'000'000;
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[128];  // room for any int fields, so the output is never truncated
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(frac));
    return buf;
  }

  /// Microseconds since the epoch.
  constexpr std::int64_t micros() const noexcept { return micros_; }

  /// As a system_clock time point.
  std::chrono::system_clock::time_point time_point() const noexcept {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::microseconds(micros_)));
  }

  /// This time moved by a duration (truncated to microseconds).
  template <class Rep, class Period>
  constexpr Timestamp operator+(std::chrono::duration<Rep, Period> d) const noexcept {
    return Timestamp(micros_ + std::chrono::duration_cast<std::chrono::microseconds>(d).count());
  }
  /// This time moved back by a duration.
  template <class Rep, class Period>
  constexpr Timestamp operator-(std::chrono::duration<Rep, Period> d) const noexcept {
    return Timestamp(micros_ - std::chrono::duration_cast<std::chrono::microseconds>(d).count());
  }

  constexpr auto operator<=>(const Timestamp&) const noexcept = default;

 private:
  explicit constexpr Timestamp(std::int64_t micros) noexcept : micros_(micros) {}

  // Howard Hinnant's days_from_civil: avoids timegm's dependence on the C locale and TZ.
  static constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
  }

  std::int64_t micros_ = 0;
};

}  // namespace strata::sdk
