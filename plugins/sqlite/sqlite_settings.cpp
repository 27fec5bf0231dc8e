#include "sqlite_settings.hpp"

namespace strata::sqlite {

using sdk::ConfigType;
using sdk::field;

sdk::ConfigSchema storage_schema() {
  return {
      field("path", ConfigType::string, "database file; created with its directory if missing").require(),
      field("busy_timeout_ms", ConfigType::integer, "how long a writer waits for another process's lock")
          .or_default(5000),
      field("synchronous", ConfigType::string, "\"full\" (durable on power loss) or \"normal\" (on crash)")
          .or_default("full"),
      field("auto_migrate", ConfigType::boolean, "migrate to the newest schema when opened").or_default(true),
  };
}

}  // namespace strata::sqlite
