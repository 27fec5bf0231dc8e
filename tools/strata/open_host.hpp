#pragma once
// Which config the CLI opens: --config, else $STRATA_CONFIG, else the built-in default.

#include <memory>
#include <string>

#include "strata/host.hpp"

namespace strata::cli {

/// Opens the host for a command. With the built-in default and no key in the
/// environment, an ephemeral key is generated and a warning printed.
sdk::Result<std::unique_ptr<Host>> open_host(const std::string& config_path);

}  // namespace strata::cli
