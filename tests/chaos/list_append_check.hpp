#pragma once
// An isolation checker over a chaos round's history, after Elle's
// list-append analysis (Kingsbury & Alvaro, "Elle: Inferring Isolation
// Anomalies from Experimental Observations", VLDB 2020). Elle itself is not
// installable here; this is the part of it that fits Strata's data.
//
// Each recipient's inbox is a list: a send appends its text, a read by
// sequence (Messages::since from the start) returns the list so far. The
// final lists (read once the faults have lifted) fix the order of every
// append that took effect. From them and what each read saw come the
// dependencies between operations:
//   ww  an append, to the append just after it in the final list;
//   wr  the append of the last element a read saw, to that read;
//   rw  a read, to the append just after the last element it saw (the
//       read came before it);
//   rt  an operation that completed, to each one invoked afterwards (real
//       time; an operation whose outcome is unknown never completes).
// A cycle in that graph is an anomaly: no order of the operations agrees
// with what the clients saw. With rt edges in the search this checks strict
// serializability, which one primary numbering the inbox in commit order
// promises. Before the graph, each read is checked on its own: it must be
// a prefix of its final list with no element twice (else the numbering let
// a later message be seen before an earlier one, or showed one twice), and
// hold no element that never took effect (an aborted or invented read).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace strata::chaos {

/// One client operation as the client saw it.
struct ListOp {
  enum class Kind { append, read };
  Kind kind = Kind::append;
  std::string key;                  ///< the list: a recipient
  std::string value;                ///< append: the element appended
  std::vector<std::string> observed;  ///< read: the list it returned
  bool completed = false;           ///< append: acknowledged; read: returned (a failed read is not recorded)
  std::int64_t invoked_ns = 0;      ///< steady clock, when the call began
  std::int64_t completed_ns = 0;    ///< when it returned (ignored unless completed)
  std::string label;                ///< how a report names it
};

/// The anomalies found, each one line naming the operations involved; empty
/// when the history is strictly serializable. At most `limit` cycles are
/// reported.
std::vector<std::string> check_list_append(const std::vector<ListOp>& ops,
                                           const std::map<std::string, std::vector<std::string>>& final_lists,
                                           std::size_t limit = 5);

}  // namespace strata::chaos
