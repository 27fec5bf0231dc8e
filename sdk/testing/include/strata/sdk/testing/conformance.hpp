#pragma once
// The whole conformance kit: one STRATA_<ROLE>_CONFORMANCE macro per role.
#include "strata/sdk/testing/audit_kit.hpp"
#include "strata/sdk/testing/cache_kit.hpp"
#include "strata/sdk/testing/cipher_kit.hpp"
#include "strata/sdk/testing/storage_kit.hpp"
