// The audit conformance kit, unchanged, on the file_audit plugin.

#include <strata/sdk/testing/audit_kit.hpp>

#include "test_host.hpp"

namespace {

using namespace strata;

sdk::testing::AuditTarget file_audit_target() {
  return {[] {
    auto dir = std::filesystem::temp_directory_path() / ("strata-audit-" + sdk::Uuid::generate().str());
    auto host = std::shared_ptr<Host>(
        test::open_host("[audit]\nplugin = \"file_audit\"\npath = \"" + (dir / "audit.jsonl").string() + "\"\n"));
    auto audit = host->audit();
    return std::shared_ptr<sdk::Audit>(audit.get(), [audit, host, dir](sdk::Audit*) mutable {
      audit.reset();
      host.reset();
      std::filesystem::remove_all(dir);
    });
  }};
}

}  // namespace

STRATA_AUDIT_CONFORMANCE("file_audit", file_audit_target())
