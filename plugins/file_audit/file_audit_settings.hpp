#pragma once
// The file_audit plugin's config keys.

#include "strata/sdk/config.hpp"

namespace strata::file_audit {

/// The keys the plugin's README lists, with their types, defaults and docs.
sdk::ConfigSchema audit_schema();

}  // namespace strata::file_audit
