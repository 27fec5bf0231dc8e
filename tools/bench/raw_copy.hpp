#pragma once
// The benchmarks' raw reference for writing messages: one binary COPY of a
// batch in one transaction, straight through libpq (the plugin's own encoder).

#include <libpq-fe.h>

#include <span>

#include "libpq_scratch.hpp"
#include "postgres_copy.hpp"

namespace strata::bench {

inline void raw_copy_messages(PGconn* c, std::span<const sdk::Message> batch) {
  auto data = postgres::encode_messages(batch);
  if (!data) throw std::runtime_error(data.error().message);
  pg_exec(c, "BEGIN");
  pg_exec(c, postgres::copy_messages_sql);
  PQputCopyData(c, data->data(), static_cast<int>(data->size()));
  PQputCopyEnd(c, nullptr);
  PQclear(PQgetResult(c));
  pg_exec(c, "COMMIT");
}

}  // namespace strata::bench
