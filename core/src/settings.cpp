// Service settings from the config's host-level tables.

#include "strata/settings.hpp"

#include <algorithm>

#include "host_tables.hpp"

namespace strata {
namespace {

using sdk::ErrorCode;

// Validates one host-level table (absent: empty, so defaults apply) and
// reads it into `s`, turning the readers' range errors into results.
sdk::Result<void> read_table(const HostConfig& config, const EnvLookup& env, const detail::HostTable& table,
                             ServiceSettings& s) {
  ConfigNode empty;
  empty.value = ConfigNode::Entries{};
  const ConfigNode* node = &empty;
  std::string label = "[" + std::string(table.name) + "]";
  for (const auto& t : config.services)
    if (t.name == table.name) node = &t.node;
  auto validated = validate_table(*node, table.schema, label, config.base_dir, env);
  if (!validated) return sdk::fail(validated.error());
  try {
    table.read(validated->view, s, config, env);
  } catch (const sdk::Error& e) {
    return sdk::fail(ErrorCode::invalid_argument, config.source + ": " + label + " " + e.message);
  }
  s.tables.emplace_back(std::string(table.name), validated->view);
  return {};
}

}  // namespace

std::string_view to_string(AuditFailurePolicy policy) noexcept {
  switch (policy) {
    case AuditFailurePolicy::block: return "block";
    case AuditFailurePolicy::spool: return "spool";
    case AuditFailurePolicy::drop: return "drop";
  }
  return "spool";
}

sdk::Result<std::filesystem::path> default_data_dir(const EnvLookup& env) {
  if (auto dir = env("STRATA_DATA_DIR"); dir && !dir->empty()) return std::filesystem::path(*dir);
  if (auto xdg = env("XDG_DATA_HOME"); xdg && !xdg->empty()) return std::filesystem::path(*xdg) / "strata";
  if (auto home = env("HOME"); home && !home->empty())
    return std::filesystem::path(*home) / ".local" / "share" / "strata";
  return sdk::fail(sdk::ErrorCode::invalid_argument,
                   "no data directory: set STRATA_DATA_DIR, XDG_DATA_HOME or HOME (none is set)");
}

sdk::Result<ServiceSettings> read_service_settings(const HostConfig& config, const EnvLookup& env) {
  ServiceSettings s;
  for (const auto& table : detail::host_tables()) {
    if (auto read = read_table(config, env, table, s); !read) return sdk::fail(read.error());
    if (table.name != "audit") continue;
    // The pipeline's keys are shown inside [audit], with the spool path's
    // computed default, and only when the config has an [audit] to hold them.
    bool has_audit = std::ranges::any_of(config.roles, [](const RoleTable& r) { return r.role == sdk::Role::audit; });
    if (!has_audit) {
      s.tables.pop_back();
      continue;
    }
    auto& view = s.tables.back().second;
    auto entries = view.entries();
    if (!view.contains("spool_path")) entries.emplace_back("spool_path", s.audit.spool_path.string());
    view = sdk::ConfigView(std::move(entries), "[audit]");
  }
  return s;
}

}  // namespace strata
