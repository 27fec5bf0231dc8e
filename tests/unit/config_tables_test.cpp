// The host parses tables it does not own for the code that registered them
// (core/host/internal/config_tables.hpp): the seam between the host and the
// services, tested with a table of the test's own.

#include <stdexcept>

#include "config_tables.hpp"
#include "strata/host.hpp"
#include "test_host.hpp"

using namespace strata;
using test::open_error;
using test::open_host;

namespace {

// [widgets]: count (1..10, default 3) and an optional label; once the
// plugins have started, `instances` says how many the host runs.
void register_widgets() {
  static const bool registered = [] {
    register_config_table(ConfigTable{
        "widgets",
        {sdk::field("count", sdk::ConfigType::integer, "how many").or_default(3),
         sdk::field("label", sdk::ConfigType::string, "what they are called")},
        [](const sdk::ConfigView& values) { (void)values.get_in_range("count", 1, 10); },
        [](const Host& host, const sdk::ConfigView& values, const std::filesystem::path&) {
          auto entries = values.entries();
          entries.emplace_back("instances", sdk::ConfigValue(std::to_string(host.instances().size())));
          return sdk::Result<sdk::ConfigView>(sdk::ConfigView(std::move(entries), values.where()));
        }});
    return true;
  }();
  (void)registered;
}

}  // namespace

TEST_CASE("config tables: a registered table is parsed, checked and handed back", "[config]") {
  register_widgets();
  auto host = open_host("[storage]\nplugin = \"memory\"\n[widgets]\ncount = 5\n");
  const auto& widgets = host->table("widgets");
  CHECK(widgets.get<std::int64_t>("count") == 5);
  CHECK_FALSE(widgets.contains("label"));
  CHECK(widgets.get<std::string>("instances") == "1");  // completed once the plugins started
  CHECK(host->effective_config().find("[widgets]") != std::string::npos);
  // Absent from the file: its defaults.
  CHECK(open_host("[storage]\nplugin = \"memory\"\n")->table("widgets").get<std::int64_t>("count") == 3);
  // A name nobody registered: nothing.
  CHECK(host->table("gadgets").entries().empty());
}

TEST_CASE("config tables: a registered table's errors name the table and the key", "[config]") {
  register_widgets();
  auto range = open_error("[widgets]\ncount = 50\n");
  INFO(range.message);
  CHECK(range.message.find("test.toml: [widgets]") != std::string::npos);
  CHECK(range.message.find("count must be between 1 and 10") != std::string::npos);
  auto typo = open_error("[widgets]\ncont = 5\n");
  INFO(typo.message);
  CHECK(typo.message.find("unknown key 'cont' in [widgets]") != std::string::npos);
  CHECK(typo.message.find("did you mean 'count'") != std::string::npos);
  CHECK(open_error("[widgets]\ncount = \"five\"\n").message.find("[widgets].count must be integer") !=
        std::string::npos);
}

TEST_CASE("config tables: a name registered twice is a programming error", "[config]") {
  register_widgets();
  CHECK_THROWS_AS(register_config_table(ConfigTable{"widgets", {}, {}, {}}), std::logic_error);
  // The services' tables are registered when libstrata loads, like any other.
  for (const char* name : {"users", "sessions", "keys", "audit", "group_commit", "maintenance"})
    CHECK(find_config_table(name) != nullptr);
  // The host's own are not in the registry: it reads them itself.
  CHECK(find_config_table("tracing") == nullptr);
}
