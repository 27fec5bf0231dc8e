#pragma once
// Snapshots of the memory stubs as one JSON file per instance, so testers
// can save a state and load it again (`strata backup` / `strata restore`).
// Bytes and cache keys are hex; times are integer microseconds: exact.

#include <filesystem>

#include <nlohmann/json.hpp>

#include "strata/sdk/sdk.hpp"

namespace strata::memory {

inline constexpr const char* snapshot_file = "snapshot.json";

/// Writes `json` to <dir>/snapshot.json and reports the file.
sdk::Result<sdk::BackupReport> write_snapshot(const std::filesystem::path& dir, const nlohmann::json& json,
                                              std::map<std::string, std::uint64_t> counts);
/// Reads <dir>/snapshot.json; `invalid_argument` naming the file when it is not one.
sdk::Result<nlohmann::json> read_snapshot(const std::filesystem::path& dir);

nlohmann::json to_json(const sdk::User& u);
nlohmann::json to_json(const sdk::Message& m);
nlohmann::json to_json(const sdk::KeyRecord& k);
nlohmann::json to_json(const sdk::AuditEvent& e);
nlohmann::json to_json(const sdk::Metric& m);
sdk::User user_from(const nlohmann::json& j);
sdk::Message message_from(const nlohmann::json& j);
sdk::KeyRecord key_from(const nlohmann::json& j);
sdk::AuditEvent event_from(const nlohmann::json& j);
sdk::Metric metric_from(const nlohmann::json& j);

}  // namespace strata::memory
