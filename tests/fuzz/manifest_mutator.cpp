// The manifest target's structure-aware mutator (libFuzzer only). Its own
// file, built without coverage instrumentation (tests/fuzz/CMakeLists.txt):
// its JSON parser and writer are the harness's, not the code under test, and
// instrumented they took a third of each execution and fed libFuzzer
// features of their own.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "structured_mutation.hpp"

namespace {

using nlohmann::json;
using strata::fuzz::pick;
using strata::fuzz::Random;

void collect(json& node, std::vector<json*>& nodes) {
  nodes.push_back(&node);
  if (node.is_object() || node.is_array())
    for (auto& child : node) collect(child, nodes);
}

// A value of another type, or at an edge of its own.
json replacement(Random& random, const json& node) {
  switch (pick(random, 9)) {
    case 0: return nullptr;
    case 1: return "";
    case 2:
      return strata::fuzz::mutate_integer(random, node.is_number_integer() ? node.get<std::int64_t>() : 0);
    case 3: return -1.5e308;
    case 4: return !(node.is_boolean() && node.get<bool>());
    case 5: return json::array();
    case 6: return json::object();
    case 7:
      return node.is_string() ? json(strata::fuzz::mutate_string(node.get<std::string>()))
                              : json(node.dump());
    default: return json::array({node, node});
  }
}

void mutate(Random& random, json& node) {
  if (node.is_object() && !node.empty() && pick(random, 2) == 0) {
    auto member = std::next(node.begin(), static_cast<std::ptrdiff_t>(pick(random, node.size())));
    if (pick(random, 2) == 0) node.erase(member);                    // a key left out
    else node[strata::fuzz::mutate_string(member.key())] = *member;  // a key misspelt, beside the right one
    return;
  }
  if (node.is_array() && !node.empty() && pick(random, 2) == 0) {
    auto index = pick(random, node.size());
    if (pick(random, 2) == 0) node.erase(index);
    else node.push_back(node[index]);  // an entry twice
    return;
  }
  node = replacement(random, node);
}

}  // namespace

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
  Random random(seed);
  json manifest = json::parse(data, data + size, nullptr, false);
  if (manifest.is_discarded() || strata::fuzz::bytes_instead(random))
    return LLVMFuzzerMutate(data, size, max_size);
  std::vector<json*> nodes;
  collect(manifest, nodes);
  mutate(random, *nodes[pick(random, nodes.size())]);
  // Compact (a third shorter than the seed's layout, so every step of a run
  // is quicker); a mutated string that is not UTF-8 is written with U+FFFD.
  auto text = manifest.dump(-1, ' ', false, json::error_handler_t::replace);
  return strata::fuzz::emit(text, data, size, max_size);
}
