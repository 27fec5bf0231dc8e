// Entry point of libstrata-mongodb.so: audit and cache on MongoDB (mongo-c-driver).

#include "mongodb_audit.hpp"
#include "mongodb_cache.hpp"

STRATA_PLUGIN("mongodb", STRATA_VERSION,
              "Audit log, metrics and cache in MongoDB, in the seed's mongoose document shapes (mongo-c-driver)",
              strata::sdk::provide<strata::mongodb::MongoAudit>(), strata::sdk::provide<strata::mongodb::MongoCache>())
