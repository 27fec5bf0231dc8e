// Host: config -> loaded, checked plugins -> running instances.

#include "embedded_config.hpp"
#include "strata/host.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <type_traits>
#include <variant>

#include "faults/faulty_table.hpp"
#include "host_settings.hpp"
#include "instrumented.hpp"
#include "loader.hpp"
#include "metrics_endpoint.hpp"
#include "tracer.hpp"

namespace strata {
namespace {

using sdk::ErrorCode;
using sdk::Role;

using Object = detail::PluginObject;

struct Instance {
  InstanceInfo info;
  Object object;
  std::shared_ptr<FaultControl> faults;  // plugin = "faulty": its rules; null otherwise
};

sdk::Logger stderr_logger() {
  return [](sdk::LogLevel level, std::string_view message) {
    if (level < sdk::LogLevel::warning) return;
    std::fprintf(stderr, "strata: %s: %.*s\n", level == sdk::LogLevel::warning ? "warning" : "error",
                 static_cast<int>(message.size()), message.data());
  };
}

// Validates every settings table (the host's own and the registered ones;
// an absent table is empty, so its defaults apply) and runs its check. The
// values of a table named like a role ("audit") are kept even without that
// role: their owner reads its defaults.
sdk::Result<std::vector<std::pair<std::string, sdk::ConfigView>>> validate_settings_tables(
    const HostConfig& config, const EnvLookup& env) {
  std::vector<std::pair<std::string, sdk::ConfigView>> out;
  for (const auto* tables : {&detail::host_own_tables(), &registered_config_tables()}) {
    for (const ConfigTable& table : *tables) {
      ConfigNode empty;
      empty.value = ConfigNode::Entries{};
      const ConfigNode* node = &empty;
      std::string label = "[" + table.name + "]";
      for (const auto& written : config.tables)
        if (written.name == table.name) node = &written.node;
      auto validated = validate_table(*node, table.schema, label, config.base_dir, env);
      if (!validated) return sdk::fail(validated.error());
      try {
        if (table.check) table.check(validated->view);
      } catch (const sdk::Error& e) {
        return sdk::fail(ErrorCode::invalid_argument, config.source + ": " + label + " " + e.message);
      }
      out.emplace_back(table.name, std::move(validated->view));
    }
  }
  return out;
}

// Wraps a plugin-created object so that it keeps its library loaded, and so
// that its destructor (plugin code) runs while the library is still mapped.
template <class T>
std::shared_ptr<T> keep_library(std::unique_ptr<T> object, std::shared_ptr<const PluginLibrary> library) {
  return std::shared_ptr<T>(object.release(), [library = std::move(library)](T* p) { delete p; });
}

template <class T>
sdk::Result<Object> create(sdk::Result<std::unique_ptr<T>> (*factory)(const sdk::PluginContext&) noexcept,
                           const sdk::PluginContext& context,
                           const std::shared_ptr<const PluginLibrary>& library) {
  auto made = factory(context);
  if (!made) return sdk::fail(made.error());
  if (!*made) return sdk::fail(ErrorCode::internal, "the factory returned no object");
  return Object(keep_library(std::move(*made), library));
}

sdk::Result<Object> create_instance(const sdk::Provider& provider, const sdk::PluginContext& context,
                                    const std::shared_ptr<const PluginLibrary>& library) {
  switch (provider.role) {
    case Role::storage: return create(provider.create_storage, context, library);
    case Role::cache: return create(provider.create_cache, context, library);
    case Role::audit: return create(provider.create_audit, context, library);
    case Role::cipher: return create(provider.create_cipher, context, library);
  }
  return sdk::fail(ErrorCode::internal, "unknown role");
}

// The same object behind a decorator that times and counts every call.
Object instrument(Object object, const InstanceInfo& info, const std::shared_ptr<Metrics>& metrics,
                  const std::shared_ptr<Tracer>& tracer, const std::optional<sdk::DatabaseInfo>& database) {
  auto wrap = [&]<class Decorator>(auto inner) -> Object {
    return std::shared_ptr<typename decltype(inner)::element_type>(std::make_shared<Decorator>(
        std::move(inner), metrics, std::string(sdk::to_string(info.role)), info.instance, info.plugin,
        info.abi_minor, tracer, database));
  };
  switch (info.role) {
    case Role::storage:
      return wrap.operator()<detail::InstrumentedStorage>(std::get<std::shared_ptr<sdk::Storage>>(object));
    case Role::cache: return wrap.operator()<detail::InstrumentedCache>(std::get<std::shared_ptr<sdk::Cache>>(object));
    case Role::audit: return wrap.operator()<detail::InstrumentedAudit>(std::get<std::shared_ptr<sdk::Audit>>(object));
    case Role::cipher:
      return wrap.operator()<detail::InstrumentedCipher>(std::get<std::shared_ptr<sdk::Cipher>>(object));
  }
  return object;
}

// The database an instance names (Storage/Cache/Audit::database_info, SDK
// 1.12), asked on the plugin itself (not counted as a call); never on an
// older plugin, whose vtable has no such method.
std::optional<sdk::DatabaseInfo> database_of(const Object& object, const InstanceInfo& info) {
  if (info.abi_minor < STRATA_SDK_SINCE(OPTIONAL_1_12)) return std::nullopt;
  return std::visit(
      []<class Role>(const std::shared_ptr<Role>& o) -> std::optional<sdk::DatabaseInfo> {
        if constexpr (std::is_same_v<Role, sdk::Cipher>) {
          return std::nullopt;
        } else {
          auto database = o->database_info();
          if (!database || database->system.empty()) return std::nullopt;
          return std::move(*database);
        }
      },
      object);
}

// What the plugins measure now (Storage/Cache::gauges) and the storage's
// outbox backlog, labelled by instance: read at each scrape of the endpoint.
std::vector<sdk::Metric> live_gauges(const std::vector<Instance>& instances) {
  std::vector<sdk::Metric> out;
  auto add = [&](const InstanceInfo& info, const sdk::Result<std::vector<sdk::Metric>>& gauges) {
    if (!gauges) return;
    for (auto g : *gauges) {
      g.labels.emplace("role", std::string(sdk::to_string(info.role)));
      g.labels.emplace("instance", info.instance);
      out.push_back(std::move(g));
    }
  };
  for (const auto& instance : instances) {
    if (const auto* storage = std::get_if<std::shared_ptr<sdk::Storage>>(&instance.object)) {
      add(instance.info, (*storage)->gauges());
      if (auto backlog = (*storage)->outbox_size())
        add(instance.info, std::vector<sdk::Metric>{{sdk::Timestamp::now(), "strata_audit_outbox_events",
                                                     static_cast<double>(*backlog), {}}});
    } else if (const auto* cache = std::get_if<std::shared_ptr<sdk::Cache>>(&instance.object)) {
      add(instance.info, (*cache)->gauges());
    }
  }
  return out;
}

sdk::Result<void> health_of(const Object& object) {
  return std::visit([](const auto& o) { return o->health(); }, object);
}

}  // namespace

struct Host::State {
  HostConfig config;
  std::vector<ValidatedConfig> validated;
  std::unique_ptr<PluginLoader> loader;
  std::vector<Instance> instances;  // start order
  HostSettings settings;
  /// Every settings table's values in effect, by name (Host::table).
  std::vector<std::pair<std::string, sdk::ConfigView>> tables;
  EnvLookup env;
  std::shared_ptr<Metrics> metrics = std::make_shared<Metrics>();
  std::shared_ptr<const sdk::Clock> clock;
  sdk::Logger log;
  std::unique_ptr<detail::MetricsEndpoint> endpoint;  // [metrics] listen
  std::shared_ptr<Tracer> tracer;                     // null: tracing off

  template <class T>
  std::shared_ptr<T> find(Role role, std::string_view name) const {
    for (const auto& instance : instances)
      if (instance.info.role == role && instance.info.instance == name)
        return std::get<std::shared_ptr<T>>(instance.object);
    return nullptr;
  }
};

Host::Host(std::unique_ptr<State> state) : state_(std::move(state)) {}

Host::~Host() {
  state_->endpoint.reset();  // no scrape while the instances stop
  // Reverse start order: the audit sink goes first, the cipher last.
  while (!state_->instances.empty()) state_->instances.pop_back();
}

sdk::Result<std::unique_ptr<Host>> Host::open_file(const std::filesystem::path& path,
                                                   HostOptions options) {
  if (!options.env) options.env = process_env();
  auto config = load_config_file(path, options.env);  // before options is moved
  return open(std::move(config), std::move(options));
}

sdk::Result<std::unique_ptr<Host>> Host::open_string(std::string_view toml, HostOptions options,
                                                     std::string source,
                                                     std::filesystem::path base_dir) {
  if (!options.env) options.env = process_env();
  if (base_dir.empty()) base_dir = std::filesystem::current_path();
  auto config = parse_config(toml, std::move(source), std::move(base_dir), options.env);
  return open(std::move(config), std::move(options));
}

sdk::Result<std::unique_ptr<Host>> Host::open_embedded(HostOptions options) {
  // Everything the built-in config keeps lives in the data directory.
  if (!options.env) options.env = process_env();
  if (auto data_dir = default_data_dir(options.env); !data_dir)
    return sdk::fail(data_dir.error().code, "the built-in config (config/embedded.toml) keeps its files in the "
                                            "data directory, and there is " + data_dir.error().message);
  return open_string(detail::embedded_config, std::move(options), "<built-in embedded.toml>");
}

sdk::Result<std::unique_ptr<Host>> Host::open(sdk::Result<HostConfig> config, HostOptions options) {
  if (!config) return sdk::fail(config.error());
  if (!options.clock) options.clock = std::make_shared<sdk::SystemClock>();
  if (!options.log) options.log = stderr_logger();

  auto tables = validate_settings_tables(*config, options.env);
  if (!tables) return sdk::fail(tables.error());
  auto state = std::make_unique<State>();
  state->config = std::move(*config);
  state->tables = std::move(*tables);
  state->settings =
      detail::read_host_settings([&s = *state](std::string_view name) -> const sdk::ConfigView& {
        for (const auto& [table, values] : s.tables)
          if (table == name) return values;
        throw std::logic_error("no settings table " + std::string(name));
      });
  if (auto data_dir = default_data_dir(options.env)) state->settings.data_dir = *data_dir;
  state->env = options.env;
  state->clock = options.clock;
  state->log = options.log;
  std::vector<std::filesystem::path> first = options.plugin_path;
  first.insert(first.end(), state->config.plugin_path.begin(), state->config.plugin_path.end());
  state->loader = std::make_unique<PluginLoader>(PluginLoader::search_path(std::move(first), options.env),
                                                 state->config.base_dir);
  // Objects are created into `host` as they start, so that a failure midway
  // stops the ones already started, in reverse order.
  auto host = std::unique_ptr<Host>(new Host(std::move(state)));
  State& s = *host->state_;
  if (options.instrument && (s.settings.tracing.otlp_endpoint || options.on_span)) {
    auto tracer = Tracer::open(s.settings.tracing, std::move(options.on_span), s.metrics);
    if (!tracer) return sdk::fail(tracer.error());
    s.tracer = std::move(*tracer);
  }

  for (const RoleTable& written : s.config.roles) {
    std::string where = written.label() + " at " + written.pos.str();
    auto refuse = [&](ErrorCode code, const std::string& why) {
      return sdk::fail(code, where + ": " + why);
    };
    // plugin = "faulty": the plugin it wraps is loaded from the `wrapped`
    // sub-table, and its instance wrapped in the fault injector.
    std::optional<detail::FaultyTable> faulty;
    if (written.plugin == "faulty") {
      auto read = detail::read_faulty_table(written, s.config.base_dir, options.env);
      if (!read) return sdk::fail(read.error());
      faulty = std::move(*read);
    }
    const RoleTable& table = faulty ? faulty->wrapped : written;
    auto library = s.loader->load(table.plugin);
    if (!library) return refuse(library.error().code, library.error().message);
    const sdk::PluginDescriptor& d = (*library)->descriptor();
    const sdk::Provider* provider = (*library)->provider(table.role);
    if (!provider)
      return refuse(ErrorCode::invalid_argument,
                    "plugin '" + table.plugin + "' (" + (*library)->path().string() + ") provides " +
                        (*library)->roles() + ", not " + std::string(sdk::to_string(table.role)));
    auto schema = provider->config_schema();
    if (!schema) return refuse(schema.error().code, "reading its config schema: " + schema.error().describe());
    auto validated = validate_role_config(table, *schema, s.config.base_dir, options.env);
    if (!validated) return sdk::fail(validated.error());

    sdk::PluginContext context;
    context.plugin = d.name;
    context.instance = table.instance;
    context.role = table.role;
    context.config = validated->view;
    context.clock = options.clock;
    context.log = [log = options.log, prefix = table.label() + " " + d.name + ": "](
                      sdk::LogLevel level, std::string_view message) {
      log(level, prefix + std::string(message));
    };
    auto object = create_instance(*provider, context, *library);
    if (!object)
      return refuse(object.error().code, "plugin '" + table.plugin + "' (" + (*library)->path().string() +
                                             ") failed to start: " + object.error().describe());
    InstanceInfo info{table.role,    table.instance, d.name,      d.version,
                      d.description, d.abi_major,    d.abi_minor, (*library)->path()};
    // Asked of the plugin itself: a fault rule never hides which database it is.
    auto database = options.instrument ? database_of(*object, info) : std::nullopt;
    if (faulty) *object = detail::wrap_faulty(std::move(*object), faulty->control, d.name, d.abi_minor);
    if (options.instrument) {
      if (database) s.metrics->describe_database(sdk::to_string(info.role), info.instance, *database);
      *object = instrument(std::move(*object), info, s.metrics, s.tracer, database);
    }
    s.instances.push_back(Instance{std::move(info), std::move(*object), faulty ? faulty->control : nullptr});
    s.validated.push_back(std::move(*validated));
  }
  // The registered tables' values in effect, now that the instances they
  // may depend on (the audit sink names its spool) have started.
  for (auto& [name, values] : s.tables) {
    const ConfigTable* table = find_config_table(name);
    if (!table || !table->complete) continue;
    auto completed = table->complete(*host, values, s.config.base_dir);
    if (!completed) {
      std::string where = s.config.source + ": [" + name + "]";
      for (const RoleTable& role : s.config.roles)
        if (role.label() == "[" + name + "]") where = role.label() + " at " + role.pos.str();
      return sdk::fail(completed.error().code, where + ": " + completed.error().message);
    }
    values = std::move(*completed);
  }
  if (s.settings.metrics.listen) {
    // The endpoint goes before the instances (~Host): the gauges never outlive them.
    auto endpoint = detail::MetricsEndpoint::open(*s.settings.metrics.listen, s.metrics,
                                                  [&instances = s.instances] { return live_gauges(instances); });
    if (!endpoint) return sdk::fail(endpoint.error());
    s.endpoint = std::move(*endpoint);
    s.log(sdk::LogLevel::info, "metrics: serving http://" + s.endpoint->address() + "/metrics");
  }
  return host;
}

std::shared_ptr<sdk::Storage> Host::storage() const { return state_->find<sdk::Storage>(Role::storage, "default"); }
std::shared_ptr<sdk::Cache> Host::cache(std::string_view instance) const {
  return state_->find<sdk::Cache>(Role::cache, instance);
}
std::shared_ptr<sdk::Audit> Host::audit() const { return state_->find<sdk::Audit>(Role::audit, "default"); }
std::shared_ptr<sdk::Cipher> Host::cipher() const { return state_->find<sdk::Cipher>(Role::cipher, "default"); }

std::vector<InstanceInfo> Host::instances() const {
  std::vector<InstanceInfo> out;
  for (const auto& instance : state_->instances) out.push_back(instance.info);
  return out;
}

std::vector<HealthReport> Host::check() const {
  std::vector<HealthReport> out;
  for (const auto& instance : state_->instances) {
    auto start = std::chrono::steady_clock::now();
    auto status = health_of(instance.object);
    auto latency = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start);
    out.push_back(HealthReport{instance.info, std::move(status), latency});
  }
  return out;
}

std::string Host::effective_config() const {
  // A table named like a role is shown inside that role's table, so only
  // when the config has one.
  std::vector<std::pair<std::string, sdk::ConfigView>> shown;
  for (const auto& [name, values] : state_->tables) {
    bool role_name = single_instance_role(name).has_value();
    bool role_written = std::ranges::any_of(
        state_->config.roles, [&](const RoleTable& r) { return sdk::to_string(r.role) == name; });
    if (!role_name || role_written) shown.emplace_back(name, values);
  }
  return render_config(state_->config, state_->validated, shown);
}

const sdk::ConfigView& Host::table(std::string_view name) const {
  for (const auto& [table, values] : state_->tables)
    if (table == name) return values;
  static const sdk::ConfigView none;
  return none;
}

sdk::ConfigView Host::public_config(Role role, std::string_view instance) const {
  for (std::size_t i = 0; i < state_->instances.size() && i < state_->validated.size(); ++i) {
    if (state_->instances[i].info.role != role || state_->instances[i].info.instance != instance) continue;
    const ValidatedConfig& config = state_->validated[i];
    auto entries = config.view.entries();
    std::erase_if(entries, [&](const auto& entry) { return config.secret_keys.contains(entry.first); });
    return sdk::ConfigView(std::move(entries), config.view.where());
  }
  return {};
}

const EnvLookup& Host::env() const {
  return state_->env;
}

const std::vector<std::filesystem::path>& Host::plugin_search_path() const {
  return state_->loader->search_dirs();
}

const HostSettings& Host::settings() const {
  return state_->settings;
}
const std::shared_ptr<Tracer>& Host::tracer() const { return state_->tracer; }

std::shared_ptr<FaultControl> Host::faults(Role role, std::string_view instance) const {
  for (const auto& i : state_->instances)
    if (i.info.role == role && i.info.instance == instance) return i.faults;
  return nullptr;
}
std::optional<std::string> Host::metrics_address() const {
  if (!state_->endpoint) return std::nullopt;
  return state_->endpoint->address();
}
const std::shared_ptr<Metrics>& Host::metrics() const { return state_->metrics; }
const std::shared_ptr<const sdk::Clock>& Host::clock() const { return state_->clock; }
const sdk::Logger& Host::log() const { return state_->log; }

}  // namespace strata
