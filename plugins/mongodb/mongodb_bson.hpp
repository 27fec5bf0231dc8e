#pragma once
// Owning handles for libbson and libmongoc values, and BSON dates.

#include <mongoc/mongoc.h>

#include <cstdint>
#include <memory>

#include "strata/sdk/timestamp.hpp"

namespace strata::mongodb {

/// An owned bson_t.
using Bson = std::unique_ptr<bson_t, decltype(&bson_destroy)>;
inline Bson owned(bson_t* b) { return Bson(b, &bson_destroy); }
/// An owned collection handle.
using Collection = std::unique_ptr<mongoc_collection_t, decltype(&mongoc_collection_destroy)>;

/// A BSON date from a timestamp (milliseconds) and back.
inline std::int64_t to_ms(sdk::Timestamp t) { return t.micros() / 1000; }
inline sdk::Timestamp from_ms(std::int64_t ms) { return sdk::Timestamp::from_micros(ms * 1000); }

}  // namespace strata::mongodb
