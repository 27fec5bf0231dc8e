#include "file_audit_settings.hpp"

namespace strata::file_audit {

using sdk::ConfigType;
using sdk::field;

sdk::ConfigSchema audit_schema() {
  return {
      field("path", ConfigType::string, "events file (JSON lines); created with its directory").require(),
      field("metrics_path", ConfigType::string, "metrics file; default: <path stem>.metrics<ext> beside it"),
      field("fsync", ConfigType::string, "\"every_batch\" (durable when append returns) or \"never\"")
          .or_default("every_batch"),
      field("rotate_bytes", ConfigType::integer, "rotate the active file past this size").or_default(64LL << 20),
      field("keep", ConfigType::integer, "rotated files kept (oldest deleted)").or_default(5),
      field("unbacked_rotation", ConfigType::string,
            "when rotation would delete events no backup holds: \"warn\" (delete, saying how many and which) "
            "or \"refuse\" (keep them; appends fail until a backup, so events wait in the outbox or spool)")
          .or_default("warn"),
  };
}

}  // namespace strata::file_audit
