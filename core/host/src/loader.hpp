#pragma once
// Finding, loading and checking plugin libraries (Boost.DLL, RTLD_NOW).

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "strata/sdk/plugin.hpp"

namespace boost::dll {
class shared_library;
}

namespace strata {

/// A plugin library that passed every check. Shared by every object created
/// from it, so it stays loaded while any of them lives.
class PluginLibrary {
 public:
  PluginLibrary(std::shared_ptr<boost::dll::shared_library> library,
                const sdk::PluginDescriptor* descriptor, std::filesystem::path path);
  ~PluginLibrary();

  /// The descriptor returned by its entry point.
  const sdk::PluginDescriptor& descriptor() const noexcept { return *descriptor_; }
  /// The file it was loaded from.
  const std::filesystem::path& path() const noexcept { return path_; }
  /// The provider of a role, or nullptr.
  const sdk::Provider* provider(sdk::Role role) const noexcept;
  /// "storage, cache, audit": the roles it provides, for messages.
  std::string roles() const;

 private:
  std::shared_ptr<boost::dll::shared_library> library_;
  const sdk::PluginDescriptor* descriptor_;
  std::filesystem::path path_;
};

/// Resolves plugin names to files and loads each file once.
class PluginLoader {
 public:
  /// `search_dirs` in order of preference; `base_dir` resolves relative paths.
  PluginLoader(std::vector<std::filesystem::path> search_dirs, std::filesystem::path base_dir);

  /// Loads a plugin by name ("memory" -> libstrata-memory.so, searched) or by
  /// path (containing '/': used as is, relative to base_dir), then checks ABI
  /// major/minor, build fingerprint and providers before anything else is called.
  sdk::Result<std::shared_ptr<const PluginLibrary>> load(std::string_view name_or_path);

  /// The directories searched, in order.
  const std::vector<std::filesystem::path>& search_dirs() const noexcept { return dirs_; }

  /// The search path: `first` (config or options), then $STRATA_PLUGIN_PATH
  /// (colon-separated), then ../lib/strata/plugins beside the running executable.
  static std::vector<std::filesystem::path> search_path(std::vector<std::filesystem::path> first,
                                                        const EnvLookup& env);
  /// "libstrata-<name>.so".
  static std::string file_name(std::string_view plugin);

 private:
  sdk::Result<std::shared_ptr<const PluginLibrary>> load_file(const std::filesystem::path& path,
                                                             std::string_view expected_name);

  std::vector<std::filesystem::path> dirs_;
  std::filesystem::path base_dir_;
  std::map<std::filesystem::path, std::shared_ptr<const PluginLibrary>> loaded_;
};

}  // namespace strata
