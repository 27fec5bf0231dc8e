#pragma once
// Everything a plugin author needs, in one include.

#include "strata/sdk/audit.hpp"
#include "strata/sdk/backup.hpp"
#include "strata/sdk/bytes.hpp"
#include "strata/sdk/cache.hpp"
#include "strata/sdk/cipher.hpp"
#include "strata/sdk/clock.hpp"
#include "strata/sdk/config.hpp"
#include "strata/sdk/error.hpp"
#include "strata/sdk/log.hpp"
#include "strata/sdk/plugin.hpp"
#include "strata/sdk/storage.hpp"
#include "strata/sdk/timestamp.hpp"
#include "strata/sdk/uuid.hpp"
#include "strata/sdk/version.hpp"
