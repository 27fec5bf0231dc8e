#include "list_append_check.hpp"

#include <algorithm>
#include <deque>
#include <limits>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

namespace strata::chaos {
namespace {

enum class Edge : std::uint8_t { ww, wr, rw, rt };

const char* edge_name(Edge e) {
  switch (e) {
    case Edge::ww: return "ww";
    case Edge::wr: return "wr";
    case Edge::rw: return "rw";
    case Edge::rt: return "rt";
  }
  return "?";
}

struct Graph {
  explicit Graph(std::size_t n) : out(n) {}
  void add(std::size_t from, std::size_t to, Edge e) {
    if (from != to) out[from].emplace_back(to, e);
  }
  std::vector<std::vector<std::pair<std::size_t, Edge>>> out;
};

// Tarjan's strongly connected components, iterative: a history's ww chains
// are as long as an inbox, too deep for recursion. Only components of more
// than one node (a cycle) are returned.
std::vector<std::vector<std::size_t>> cyclic_components(const Graph& g) {
  constexpr std::size_t unvisited = std::numeric_limits<std::size_t>::max();
  const std::size_t n = g.out.size();
  std::vector<std::size_t> index(n, unvisited), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<std::size_t> stack;
  std::vector<std::vector<std::size_t>> found;
  std::size_t next_index = 0;
  struct Frame {
    std::size_t node, edge;
  };
  for (std::size_t root = 0; root < n; ++root) {
    if (index[root] != unvisited) continue;
    std::vector<Frame> frames{{root, 0}};
    index[root] = low[root] = next_index++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!frames.empty()) {
      auto& f = frames.back();
      if (f.edge < g.out[f.node].size()) {
        std::size_t to = g.out[f.node][f.edge++].first;
        if (index[to] == unvisited) {
          index[to] = low[to] = next_index++;
          stack.push_back(to);
          on_stack[to] = true;
          frames.push_back({to, 0});
        } else if (on_stack[to]) {
          low[f.node] = std::min(low[f.node], index[to]);
        }
        continue;
      }
      std::size_t node = f.node;
      frames.pop_back();
      if (!frames.empty()) low[frames.back().node] = std::min(low[frames.back().node], low[node]);
      if (low[node] != index[node]) continue;
      std::vector<std::size_t> component;
      std::size_t member;
      do {
        member = stack.back();
        stack.pop_back();
        on_stack[member] = false;
        component.push_back(member);
      } while (member != node);
      if (component.size() > 1) found.push_back(std::move(component));
    }
  }
  return found;
}

// A shortest cycle from `start` back to it inside one component: the nodes
// in order, each with the edge that leaves it.
std::vector<std::pair<std::size_t, Edge>> shortest_cycle(const Graph& g, std::size_t start,
                                                         const std::vector<bool>& in_component) {
  constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
  std::vector<std::pair<std::size_t, Edge>> came_from(g.out.size(), {none, Edge::ww});
  std::deque<std::size_t> queue{start};
  std::vector<bool> seen(g.out.size(), false);
  seen[start] = true;
  while (!queue.empty()) {
    std::size_t node = queue.front();
    queue.pop_front();
    for (auto [to, edge] : g.out[node]) {
      if (!in_component[to]) continue;
      if (to == start) {
        std::vector<std::pair<std::size_t, Edge>> cycle{{node, edge}};
        for (std::size_t at = node; at != start;) {
          auto [previous, via] = came_from[at];
          cycle.emplace_back(previous, via);
          at = previous;
        }
        std::reverse(cycle.begin(), cycle.end());
        return cycle;
      }
      if (seen[to]) continue;
      seen[to] = true;
      came_from[to] = {node, edge};
      queue.push_back(to);
    }
  }
  return {};
}

// Adya's names for the cycle, as Elle reports them; "-realtime" when only
// real-time order closes it (strict serializability, not serializability).
std::string anomaly_name(const std::vector<std::pair<std::size_t, Edge>>& cycle) {
  std::size_t rw = 0, wr = 0, rt = 0;
  for (auto [node, edge] : cycle) {
    rw += edge == Edge::rw;
    wr += edge == Edge::wr;
    rt += edge == Edge::rt;
  }
  std::string name = rw == 0 ? (wr == 0 ? "G0" : "G1c") : rw == 1 ? "G-single" : "G2";
  return rt > 0 ? name + "-realtime" : name;
}

// Each read on its own; false when it cannot take part in the graph.
bool read_is_sound(const ListOp& read, const std::vector<std::string>& final_list,
                   const std::unordered_map<std::string, std::size_t>& position, std::vector<std::string>& anomalies) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < read.observed.size(); ++i) {
    const auto& v = read.observed[i];
    if (!seen.insert(v).second) {
      anomalies.push_back(fmt::format("duplicate: {} saw '{}' twice", read.label, v));
      return false;
    }
    if (!position.contains(v)) {
      anomalies.push_back(fmt::format("G1a (aborted read): {} saw '{}', which never took effect in {}", read.label, v,
                                      read.key));
      return false;
    }
    if (i >= final_list.size() || final_list[i] != v) {
      anomalies.push_back(fmt::format("incompatible order: {} saw '{}' at position {}, where the final list of {} "
                                      "has {}",
                                      read.label, v, i + 1, read.key,
                                      i < final_list.size() ? "'" + final_list[i] + "'" : std::string("nothing")));
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> check_list_append(const std::vector<ListOp>& ops,
                                           const std::map<std::string, std::vector<std::string>>& final_lists,
                                           std::size_t limit) {
  std::vector<std::string> anomalies;
  const std::vector<std::string> empty;
  auto final_of = [&](const std::string& key) -> const std::vector<std::string>& {
    auto it = final_lists.find(key);
    return it == final_lists.end() ? empty : it->second;
  };
  std::map<std::string, std::unordered_map<std::string, std::size_t>> position;  // key -> value -> index
  for (const auto& [key, list] : final_lists)
    for (std::size_t i = 0; i < list.size(); ++i) position[key].emplace(list[i], i);

  // The graph's nodes: appends that took effect (or were acknowledged:
  // their absence is the send checker's to report) and sound reads.
  std::vector<std::size_t> node_op;  // node -> index in ops
  std::map<std::pair<std::string, std::string>, std::size_t> append_node;  // (key, value) -> node
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const auto& op = ops[i];
    if (op.kind == ListOp::Kind::append) {
      if (!op.completed && !position[op.key].contains(op.value)) continue;  // never took effect
      append_node[{op.key, op.value}] = node_op.size();
    } else if (!read_is_sound(op, final_of(op.key), position[op.key], anomalies)) {
      continue;
    }
    node_op.push_back(i);
  }
  Graph graph(node_op.size());
  auto append_of = [&](const std::string& key, const std::string& value) -> std::optional<std::size_t> {
    auto it = append_node.find({key, value});
    return it == append_node.end() ? std::nullopt : std::optional(it->second);
  };
  for (const auto& [key, list] : final_lists)
    for (std::size_t i = 0; i + 1 < list.size(); ++i)
      if (auto a = append_of(key, list[i]), b = append_of(key, list[i + 1]); a && b) graph.add(*a, *b, Edge::ww);
  for (std::size_t node = 0; node < node_op.size(); ++node) {
    const auto& op = ops[node_op[node]];
    if (op.kind != ListOp::Kind::read) continue;
    const auto& list = final_of(op.key);
    std::size_t k = op.observed.size();
    if (k > 0)
      if (auto w = append_of(op.key, list[k - 1])) graph.add(*w, node, Edge::wr);
    if (k < list.size())
      if (auto w = append_of(op.key, list[k])) graph.add(node, *w, Edge::rw);
  }

  // Real time, reduced as Elle does: sweeping the calls in time order, an
  // invoked call depends on the frontier of completed ones, and a completed
  // call replaces its own predecessors in the frontier.
  struct Moment {
    std::int64_t at;
    bool completes;
    std::size_t node;
  };
  std::vector<Moment> moments;
  for (std::size_t node = 0; node < node_op.size(); ++node) {
    const auto& op = ops[node_op[node]];
    moments.push_back({op.invoked_ns, false, node});
    if (op.completed) moments.push_back({op.completed_ns, true, node});
  }
  std::sort(moments.begin(), moments.end(), [](const Moment& a, const Moment& b) {
    return a.at != b.at ? a.at < b.at : a.completes < b.completes;  // a tie is not "before"
  });
  std::set<std::size_t> frontier;
  std::vector<std::vector<std::size_t>> predecessors(node_op.size());
  for (const auto& m : moments) {
    if (!m.completes) {
      predecessors[m.node].assign(frontier.begin(), frontier.end());
      for (std::size_t p : frontier) graph.add(p, m.node, Edge::rt);
      continue;
    }
    for (std::size_t p : predecessors[m.node]) frontier.erase(p);
    frontier.insert(m.node);
  }

  std::size_t reported = 0;
  for (const auto& component : cyclic_components(graph)) {
    if (reported == limit) {
      anomalies.push_back("... and more cycles");
      break;
    }
    std::vector<bool> inside(node_op.size(), false);
    for (std::size_t n : component) inside[n] = true;
    // The shortest cycle through one of the component's first reads (where
    // an anomaly shows), else through any node: the one easiest to follow.
    std::vector<std::pair<std::size_t, Edge>> cycle;
    std::size_t tried = 0;
    for (std::size_t n : component) {
      if (ops[node_op[n]].kind != ListOp::Kind::read || tried++ == 20) continue;
      auto through = shortest_cycle(graph, n, inside);
      if (cycle.empty() || (!through.empty() && through.size() < cycle.size())) cycle = std::move(through);
    }
    if (cycle.empty()) cycle = shortest_cycle(graph, component.front(), inside);
    // Long cycles (real time through a whole inbox) keep their ends.
    constexpr std::size_t shown_each_end = 5;
    std::string text = anomaly_name(cycle) + ":";
    for (std::size_t i = 0; i < cycle.size(); ++i) {
      if (cycle.size() > 2 * shown_each_end + 1 && i == shown_each_end) {
        text += fmt::format(" … ({} operations) …", cycle.size() - 2 * shown_each_end);
        i = cycle.size() - shown_each_end - 1;
        continue;
      }
      auto [node, edge] = cycle[i];
      text += fmt::format(" {} -{}->", ops[node_op[node]].label, edge_name(edge));
    }
    text += " " + ops[node_op[cycle.front().first]].label;
    anomalies.push_back(std::move(text));
    ++reported;
  }
  return anomalies;
}

}  // namespace strata::chaos
