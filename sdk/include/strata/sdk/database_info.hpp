#pragma once
// What a plugin tells the host about the database it talks to (SDK ABI
// 1.12), so that the host can label its calls as the OpenTelemetry database
// conventions do: `db.client.operation.duration` with db.system.name,
// db.namespace, server.address and server.port. Never a credential.

#include <cstdint>
#include <string>

namespace strata::sdk {

/// The database behind a role instance.
struct DatabaseInfo {
  /// The convention's db.system.name: "postgresql", "redis", "mongodb", "sqlite", …
  std::string system;
  /// db.namespace: the database (PostgreSQL, MongoDB), the database index (Redis, "0"), the file (SQLite).
  std::string namespace_name;
  /// server.address and server.port of the server the instance writes to (empty / 0 when there is none).
  std::string server_address;
  std::uint16_t server_port = 0;
};

}  // namespace strata::sdk
