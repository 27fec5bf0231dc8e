#pragma once
// A one-dimensional array parameter in PostgreSQL's binary format, so a whole
// batch of rows travels as a few parameters of one statement
// (INSERT ... SELECT * FROM unnest($1::uuid[], ...)): one round trip, where
// BEGIN + COPY + COMMIT take several.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "postgres_binary.hpp"
#include "postgres_connection.hpp"
#include "strata/sdk/sdk.hpp"

namespace strata::postgres {

/// Element type OIDs (pg_type.h).
namespace oid {
inline constexpr std::uint32_t boolean = 16, bytea = 17, text = 25, timestamptz = 1184, uuid = 2950;
}

class ArrayParam {
 public:
  ArrayParam(std::uint32_t element_oid, std::size_t count) {
    using binary::put32;
    put32(data_, 1);  // dimensions
    put32(data_, 0);  // has NULLs: set by add_null
    put32(data_, element_oid);
    put32(data_, static_cast<std::uint32_t>(count));
    put32(data_, 1);  // lower bound
  }
  void add(std::string_view bytes) {
    binary::put32(data_, static_cast<std::uint32_t>(bytes.size()));
    data_.append(bytes);
  }
  void add(sdk::BytesView bytes) { add(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())); }
  void add(const sdk::Uuid& id) { add(sdk::BytesView(id.bytes())); }
  void add(bool b) { add(std::string_view(b ? "\1" : "\0", 1)); }
  void add(sdk::Timestamp t) {
    std::string v;
    binary::put64(v, binary::timestamp_value(t));
    add(std::string_view(v));
  }
  template <class T>
  void add(const std::optional<T>& value) {
    if (value) return add(*value);
    data_[7] = 1;  // the has-NULLs flag (big-endian int32 at offset 4)
    binary::put32(data_, 0xffffffffu);
  }
  /// The binary parameter.
  Param param() && {
    Param p(std::move(data_));
    p.binary = true;
    return p;
  }

 private:
  std::string data_;
};

}  // namespace strata::postgres
