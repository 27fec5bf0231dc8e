#pragma once
// Which config the CLI opens: --config, else $STRATA_CONFIG, else the built-in default.

#include <cstdint>
#include <memory>
#include <vector>
#include <string>

#include "strata/host.hpp"
#include "strata/services.hpp"

namespace strata::cli {

/// Opens the host for a command: --config, else $STRATA_CONFIG, else the
/// built-in config/embedded.toml (data under $STRATA_DATA_DIR or its defaults).
/// Plugins' warnings and errors go to stderr; their info lines (what a
/// health check found, say) to `notes` when given.
sdk::Result<std::unique_ptr<Host>> open_host(const std::string& config_path,
                                             std::vector<std::string>* notes = nullptr);

/// The services on `host` for a one-shot command (no scheduler thread; metrics
/// are written when they end); null after printing the error.
std::unique_ptr<Services> open_services(const Host& host);

/// Audit events this process's services lost (sink and spool both failed).
std::uint64_t audit_events_lost(const Host& host);

}  // namespace strata::cli
