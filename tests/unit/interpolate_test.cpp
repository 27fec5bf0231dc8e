// ${VAR} and ${VAR:-default} interpolation.

#include "config.hpp"  // core/host/src: interpolation is internal to the host
#include "test_host.hpp"

using strata::interpolate;
using strata::test::fake_env;

TEST_CASE("interpolation replaces variables and applies defaults lazily", "[config][interpolate]") {
  auto env = fake_env({{"HOST", "db.local"}, {"EMPTY", ""}, {"PORT", "5433"}});
  CHECK(interpolate("host=${HOST} port=${PORT}", env).value() == "host=db.local port=5433");
  CHECK(interpolate("${MISSING:-fallback}", env).value() == "fallback");
  CHECK(interpolate("${EMPTY:-fallback}", env).value() == "fallback");  // as the shell's :-
  CHECK(interpolate("${EMPTY}", env).value() == "");
  CHECK(interpolate("${MISSING:-${HOST}}", env).value() == "db.local");
  CHECK(interpolate("${HOST:-${MISSING}}", env).value() == "db.local");  // unused default not expanded
  CHECK(interpolate("${MISSING:-}", env).value() == "");
  CHECK(interpolate("cost $$5 and $ alone", env).value() == "cost $5 and $ alone");
  CHECK(interpolate("no variables", env).value() == "no variables");
}

TEST_CASE("interpolation errors name the problem", "[config][interpolate]") {
  auto env = fake_env({});
  auto unset = interpolate("${DB_PASSWORD}", env);
  REQUIRE_FALSE(unset);
  CHECK(unset.error().message.find("'DB_PASSWORD' is not set") != std::string::npos);
  CHECK_FALSE(interpolate("${MISSING:-${ALSO_MISSING}}", env));
  CHECK_FALSE(interpolate("${UNTERMINATED", env));
  CHECK_FALSE(interpolate("${}", env));
  CHECK_FALSE(interpolate("${A:-unterminated", env));
  CHECK_FALSE(interpolate("${A?}", env));
}

TEST_CASE("interpolation: deeply nested defaults are refused, not recursed into", "[config][interpolate][hardening]") {
  auto env = fake_env({});
  std::string deep;
  for (int i = 0; i < 15000; ++i) deep += "${A:-";
  deep += "x" + std::string(15000, '}');
  auto refused = interpolate(deep, env);  // once crashed the parser (stack overflow)
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("nest more than 32 levels") != std::string::npos);
  std::string fine;
  for (int i = 0; i < 32; ++i) fine += "${A:-";
  fine += "x" + std::string(32, '}');
  CHECK(interpolate(fine, env).value() == "x");
}
