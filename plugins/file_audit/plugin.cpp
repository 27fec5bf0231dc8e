// Entry point of libstrata-file_audit.so: the audit role as JSON-lines files.

#include "file_audit.hpp"

STRATA_PLUGIN("file_audit", STRATA_VERSION, "Audit events and metrics appended to JSON-lines files (embedded scale)",
              strata::sdk::provide<strata::file_audit::FileAudit>())
