// libstrata-refusing_audit.so: the memory audit sink, except that every
// append is refused as if the sink were down (backup and restore still work).
// For the tests that an operation whose audit event cannot be recorded fails.

#include "memory_audit.hpp"

namespace strata::test {

class RefusingAudit : public memory::MemoryAudit {
 public:
  using MemoryAudit::MemoryAudit;
  sdk::Result<void> append(std::span<const sdk::AuditEvent>) override {
    return sdk::fail(sdk::ErrorCode::unavailable, "the audit sink is down (on purpose)");
  }
};

}  // namespace strata::test

STRATA_PLUGIN("refusing_audit", "1.0.0", "An audit sink that refuses every append (tests)",
              strata::sdk::provide<strata::test::RefusingAudit>())
