// Plugin loading: search, dlopen (RTLD_NOW), and the checks made before any call.

#include "loader.hpp"

#include <algorithm>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstring>
#include <set>

namespace strata {
namespace {

using sdk::ErrorCode;
using sdk::fail;

// Boost.DLL wraps dlerror() in "... (dlerror system message: X): ..."; keep X,
// the inner cause that says which dependency or symbol is missing.
std::string dlopen_cause(const std::string& what) {
  static const std::string marker = "dlerror system message: ";
  auto start = what.find(marker);
  if (start == std::string::npos) return what;
  start += marker.size();
  auto end = what.rfind(')');
  return what.substr(start, end == std::string::npos || end < start ? std::string::npos : end - start);
}

bool valid_role(sdk::Role role) {
  return role == sdk::Role::storage || role == sdk::Role::cache || role == sdk::Role::audit ||
         role == sdk::Role::cipher;
}

bool has_factory(const sdk::Provider& p) {
  switch (p.role) {
    case sdk::Role::storage: return p.create_storage != nullptr;
    case sdk::Role::cache: return p.create_cache != nullptr;
    case sdk::Role::audit: return p.create_audit != nullptr;
    case sdk::Role::cipher: return p.create_cipher != nullptr;
  }
  return false;
}

sdk::Result<void> check_descriptor(const sdk::PluginDescriptor* d, const std::string& file) {
  auto refuse = [&](const std::string& why) {
    return fail(ErrorCode::invalid_argument, "plugin " + file + " refused: " + why);
  };
  if (!d) return refuse("strata_plugin_v1() returned no descriptor");
  std::string host_abi = std::to_string(STRATA_SDK_ABI_MAJOR) + "." + std::to_string(STRATA_SDK_ABI_MINOR);
  std::string plugin_abi = std::to_string(d->abi_major) + "." + std::to_string(d->abi_minor);
  if (d->abi_major != STRATA_SDK_ABI_MAJOR)
    return refuse("built for SDK ABI " + plugin_abi + " but this host speaks ABI " + host_abi +
                  " (major versions differ); rebuild the plugin against this SDK");
  if (d->abi_minor > STRATA_SDK_ABI_MINOR)
    return refuse("built for SDK ABI " + plugin_abi + ", newer than this host's ABI " + host_abi +
                  "; upgrade the host or rebuild the plugin against the older SDK");
  if (!d->fingerprint || std::strcmp(d->fingerprint, sdk::build_fingerprint) != 0)
    return refuse(std::string("build fingerprint '") + (d->fingerprint ? d->fingerprint : "(none)") +
                  "' does not match the host's '" + sdk::build_fingerprint +
                  "' (compiler or standard-library ABI differs)");
  if (!d->name || !*d->name) return refuse("the descriptor has no plugin name");
  if (!d->providers || d->provider_count == 0) return refuse("it provides no role");
  std::set<sdk::Role> seen;
  for (std::size_t i = 0; i < d->provider_count; ++i) {
    const sdk::Provider& p = d->providers[i];
    if (!valid_role(p.role))
      return refuse("provider #" + std::to_string(i + 1) + " declares unknown role " +
                    std::to_string(static_cast<std::uint32_t>(p.role)));
    if (!seen.insert(p.role).second)
      return refuse("it provides the " + std::string(sdk::to_string(p.role)) +
                    " role twice (duplicate provider)");
    if (!has_factory(p) || !p.config_schema)
      return refuse("its " + std::string(sdk::to_string(p.role)) + " provider has no factory");
  }
  return {};
}

}  // namespace

PluginLibrary::PluginLibrary(std::shared_ptr<boost::dll::shared_library> library,
                             const sdk::PluginDescriptor* descriptor, std::filesystem::path path)
    : library_(std::move(library)), descriptor_(descriptor), path_(std::move(path)) {}

PluginLibrary::~PluginLibrary() = default;

const sdk::Provider* PluginLibrary::provider(sdk::Role role) const noexcept {
  for (std::size_t i = 0; i < descriptor_->provider_count; ++i)
    if (descriptor_->providers[i].role == role) return &descriptor_->providers[i];
  return nullptr;
}

std::string PluginLibrary::roles() const {
  std::string out;
  for (std::size_t i = 0; i < descriptor_->provider_count; ++i) {
    if (i) out += ", ";
    out += sdk::to_string(descriptor_->providers[i].role);
  }
  return out;
}

PluginLoader::PluginLoader(std::vector<std::filesystem::path> search_dirs,
                           std::filesystem::path base_dir)
    : dirs_(std::move(search_dirs)), base_dir_(std::move(base_dir)) {}

std::string PluginLoader::file_name(std::string_view plugin) {
  return "libstrata-" + std::string(plugin) + ".so";
}

std::vector<std::filesystem::path> PluginLoader::search_path(std::vector<std::filesystem::path> first,
                                                             const EnvLookup& env) {
  std::vector<std::filesystem::path> dirs = std::move(first);
  if (auto value = env("STRATA_PLUGIN_PATH")) {
    std::string_view rest = *value;
    while (!rest.empty()) {
      auto colon = rest.find(':');
      auto part = rest.substr(0, colon);
      if (!part.empty()) dirs.emplace_back(part);
      rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    }
  }
  // ../lib/strata/plugins beside the executable: true in the build tree
  // (build/bin -> build/lib/strata/plugins) and once installed (prefix/bin -> prefix/lib/...).
  boost::system::error_code ec;
  auto exe = boost::dll::program_location(ec);
  if (!ec)
    dirs.push_back(std::filesystem::path(exe.parent_path().string()) / ".." / "lib" / "strata" / "plugins");
  // strata/plugins beside libstrata.so itself: where an application that
  // embeds the installed library finds the bundled plugins, wherever its own
  // executable is (prefix/lib/libstrata.so -> prefix/lib/strata/plugins).
  auto library = boost::dll::this_line_location(ec);
  if (!ec) dirs.push_back(std::filesystem::path(library.parent_path().string()) / "strata" / "plugins");
  // The last two are one directory in the build tree and in a plain install: list it once.
  std::vector<std::filesystem::path> unique;
  for (const auto& dir : dirs) {
    auto normal = dir.lexically_normal();
    if (std::find(unique.begin(), unique.end(), normal) == unique.end()) unique.push_back(normal);
  }
  return unique;
}

sdk::Result<std::shared_ptr<const PluginLibrary>> PluginLoader::load(std::string_view name_or_path) {
  bool is_path = name_or_path.find('/') != std::string_view::npos ||
                 name_or_path.ends_with(".so");
  if (is_path) {
    std::filesystem::path path(name_or_path);
    if (path.is_relative()) path = base_dir_ / path;
    if (!std::filesystem::exists(path))
      return fail(ErrorCode::not_found, "plugin file " + path.string() + " does not exist");
    return load_file(path, {});
  }
  std::vector<std::string> tried;
  for (const auto& dir : dirs_) {
    auto candidate = dir / file_name(name_or_path);
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) return load_file(candidate, name_or_path);
    tried.push_back(candidate.lexically_normal().string());
  }
  std::string message = "plugin '" + std::string(name_or_path) + "' not found; looked for:";
  for (const auto& t : tried) message += "\n  " + t;
  if (tried.empty()) message += " (no search directories)";
  message += "\nset [host].plugin_path or STRATA_PLUGIN_PATH to the directory holding " +
             file_name(name_or_path);
  return fail(ErrorCode::not_found, message);
}

sdk::Result<std::shared_ptr<const PluginLibrary>> PluginLoader::load_file(
    const std::filesystem::path& path, std::string_view expected_name) {
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(path, ec);
  if (ec) canonical = path;
  if (auto it = loaded_.find(canonical); it != loaded_.end()) return it->second;

  const std::string file = canonical.string();
  auto library = std::make_shared<boost::dll::shared_library>();
  try {
    // RTLD_NOW: a missing dependency or symbol fails here, with its name,
    // rather than crashing at the first call. RTLD_LOCAL: plugins' symbols
    // never interpose on each other.
    library->load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    return fail(ErrorCode::invalid_argument,
                "plugin " + file + " could not be loaded: " + dlopen_cause(e.what()));
  }
  if (!library->has(sdk::entry_point_name))
    return fail(ErrorCode::invalid_argument,
                "plugin " + file + " refused: it has no " + sdk::entry_point_name +
                    " entry point (not a Strata plugin, or built without STRATA_PLUGIN)");
  auto& entry = library->get<sdk::EntryPoint>(sdk::entry_point_name);
  const sdk::PluginDescriptor* descriptor = entry();
  if (auto checked = check_descriptor(descriptor, file); !checked) return sdk::fail(checked.error());
  if (!expected_name.empty() && expected_name != descriptor->name)
    return fail(ErrorCode::invalid_argument, "plugin " + file + " refused: it calls itself '" +
                                                 descriptor->name + "', not '" +
                                                 std::string(expected_name) + "'");
  auto loaded = std::make_shared<const PluginLibrary>(std::move(library), descriptor, canonical);
  loaded_.emplace(canonical, loaded);
  return loaded;
}

}  // namespace strata
