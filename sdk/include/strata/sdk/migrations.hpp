#pragma once
// Schema migrations for storage plugins: NNN_name.up.sql / .down.sql files
// embedded at build time by the CMake function strata_embed_migrations
// (StrataPlugin.cmake), and the order to run them in. The bundled PostgreSQL
// and SQLite plugins use both; a plugin runs each step in its own database's
// transaction and records the version in its own table.
//
//   # CMakeLists.txt
//   strata_embed_migrations(${CMAKE_CURRENT_SOURCE_DIR}/schema
//                           ${CMAKE_CURRENT_BINARY_DIR}/migrations.cpp mydb::migrations)
//   // C++: declared by you, defined by the generated file
//   namespace mydb { const strata::sdk::MigrationSet& migrations(); }
//   ...
//   auto plan = mydb::migrations().steps(current, target);   // ups, or downs newest first
//   if (!plan) return sdk::fail(plan.error());
//   for (const auto& step : *plan) run(step.up ? step.migration->up : step.migration->down);

#include <string>
#include <utility>
#include <vector>

#include "strata/sdk/error.hpp"

namespace strata::sdk {

/// One NNN_name.up.sql / .down.sql pair.
struct Migration {
  int version = 0;
  const char* name = "";
  const char* up = "";
  const char* down = "";
};

/// One step of a migration run: a migration, and which way.
struct MigrationRun {
  const Migration* migration = nullptr;
  bool up = true;
};

/// Every migration of a plugin, versions 1, 2, ... n in order (the
/// constructor throws Error otherwise: a build that embedded a gap).
class MigrationSet {
 public:
  explicit MigrationSet(std::vector<Migration> all) : all_(std::move(all)) {
    for (std::size_t i = 0; i < all_.size(); ++i)
      if (all_[i].version != static_cast<int>(i) + 1)
        throw Error{ErrorCode::internal,
                    "schema migrations must be numbered 1, 2, 3, ... without gaps; found " +
                        std::to_string(all_[i].version) + "_" + all_[i].name + " at position " + std::to_string(i + 1),
                    {}, false};
  }

  /// The newest version (0 when there are none).
  int latest() const noexcept { return all_.empty() ? 0 : all_.back().version; }
  /// The migration with this version; null when there is none.
  const Migration* find(int version) const noexcept {
    return version >= 1 && version <= latest() ? &all_[static_cast<std::size_t>(version) - 1] : nullptr;
  }
  /// "3_inbox_sequence", for messages.
  static std::string label(const Migration& m) { return std::to_string(m.version) + "_" + m.name; }

  /// The steps from version `current` to `target`: the ups after `current`
  /// in order, or the downs from `current` newest first. `invalid_argument`
  /// for a target outside 0..latest(), `conflict` for a database newer than
  /// this build knows.
  Result<std::vector<MigrationRun>> steps(int current, int target) const {
    if (target < 0 || target > latest())
      return fail(ErrorCode::invalid_argument, "no schema version " + std::to_string(target) +
                                                   ": versions run from 0 to " + std::to_string(latest()));
    if (current < 0 || current > latest())
      return fail(ErrorCode::conflict, "the database is at schema version " + std::to_string(current) +
                                           ", newer than this plugin knows (" + std::to_string(latest()) +
                                           "): use a newer build");
    std::vector<MigrationRun> out;
    for (int v = current + 1; v <= target; ++v) out.push_back({find(v), true});
    for (int v = current; v > target; --v) out.push_back({find(v), false});
    return out;
  }

  auto begin() const noexcept { return all_.begin(); }
  auto end() const noexcept { return all_.end(); }
  auto rbegin() const noexcept { return all_.rbegin(); }
  auto rend() const noexcept { return all_.rend(); }
  bool empty() const noexcept { return all_.empty(); }
  std::size_t size() const noexcept { return all_.size(); }

 private:
  std::vector<Migration> all_;
};

}  // namespace strata::sdk
