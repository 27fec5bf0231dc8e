// The config parser and its ${VAR:-default} interpolation, on any text.

#include <cstdint>
#include <string_view>

#include "config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // A few variables set, the rest unset: both paths of every ${…}.
  strata::EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "A") return "1";
    if (name == "B") return "${A}";
    if (name == "EMPTY") return "";
    return std::nullopt;
  };
  (void)strata::interpolate(text, env);
  (void)strata::parse_config(text, "fuzz.toml", "/nonexistent", env);
  return 0;
}

#ifdef STRATA_LIBFUZZER
#include <sstream>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "structured_mutation.hpp"

namespace {

using strata::fuzz::pick;
using strata::fuzz::Random;

// Where a value sits: a key of a table or an index of an array.
struct Slot {
  toml::table* table = nullptr;
  std::string key;
  toml::array* array = nullptr;
  std::size_t index = 0;

  toml::node& node() const { return table ? *table->get(key) : *array->get(index); }
};

void collect(toml::node& node, std::vector<Slot>& slots) {
  if (auto* table = node.as_table()) {
    for (auto&& [key, child] : *table) {
      slots.push_back({table, std::string(key.str()), nullptr, 0});
      collect(child, slots);
    }
  } else if (auto* array = node.as_array()) {
    for (std::size_t i = 0; i < array->size(); ++i) {
      slots.push_back({nullptr, {}, array, i});
      collect(*array->get(i), slots);
    }
  }
}

template <class Value>
void put(const Slot& slot, Value&& value) {
  if (slot.table) slot.table->insert_or_assign(slot.key, std::forward<Value>(value));
  else
    slot.array->replace(slot.array->cbegin() + static_cast<std::ptrdiff_t>(slot.index),
                        std::forward<Value>(value));
}

// Strings the config gives meaning to: interpolation, plugin names, sizes.
constexpr std::string_view meaningful[] = {"${A}",        "${B}",   "${UNSET:-fallback}",
                                           "${EMPTY:-x}", "${A",    "memory",
                                           "sqlite",      "faulty", "file_audit",
                                           "postgres",    "",       "1s",
                                           "10ms",        "-1",     "spool",
                                           "block",       "drop"};

void mutate(Random& random, const Slot& slot) {
  toml::node& node = slot.node();
  switch (pick(random, 8)) {
    case 0:
      if (slot.table) slot.table->erase(slot.key);  // a key left out
      else slot.array->erase(slot.array->cbegin() + static_cast<std::ptrdiff_t>(slot.index));
      return;
    case 1:
      if (slot.table)  // a key misspelt, beside the right one
        slot.table->insert_or_assign(strata::fuzz::mutate_string(slot.key), std::string("x"));
      return;
    case 2:  // value_or<std::int64_t> of a float out of range is undefined behaviour in toml++ itself
      put(slot, strata::fuzz::mutate_integer(random, node.is_integer() ? node.as_integer()->get() : 0));
      return;
    case 3: put(slot, std::string(meaningful[pick(random, std::size(meaningful))])); return;
    case 4: put(slot, strata::fuzz::mutate_string(node.value_or<std::string>(""))); return;
    case 5: put(slot, !node.value_or(false)); return;
    case 6: put(slot, pick(random, 2) ? 1e300 : -0.5); return;
    default:
      if (pick(random, 2) == 0) put(slot, toml::array{1, "a"});
      else put(slot, toml::table{{"plugin", "memory"}});
  }
}

}  // namespace

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
  Random random(seed);
  if (strata::fuzz::bytes_instead(random)) return LLVMFuzzerMutate(data, size, max_size);
  toml::table config;
  try {
    config = toml::parse(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const toml::parse_error&) {
    return LLVMFuzzerMutate(data, size, max_size);
  }
  std::vector<Slot> slots;
  collect(config, slots);
  if (slots.empty()) return LLVMFuzzerMutate(data, size, max_size);
  mutate(random, slots[pick(random, slots.size())]);
  std::ostringstream text;
  text << config;
  return strata::fuzz::emit(text.str(), data, size, max_size);
}
#endif
