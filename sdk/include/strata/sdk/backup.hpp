#pragma once
// Backup and restore of one role instance (SDK ABI 1.2). The host gives the
// plugin a directory of its own; the plugin writes whatever files restore
// needs and reports them. The host checksums them, writes the manifest,
// and may encrypt them: the plugin never sees a manifest or a key.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace strata::sdk {

/// What a backup wrote, or what a restore put back.
struct BackupReport {
  std::vector<std::string> files;               ///< written, relative to the directory (backup only)
  std::map<std::string, std::uint64_t> counts;  ///< records per table, collection or keyspace
  std::string schema_version;                   ///< the backend's schema version, if it has one
};

}  // namespace strata::sdk
