// The audit ledger over the MongoDB sink, tampered with in the database
// itself (FerretDB in the suite), as someone with write access to it would:
// `verify` names the edited, the deleted and the inserted document.

#include <catch2/catch.hpp>

#include "mongo_db.hpp"
#include "strata/services.hpp"
#include "strata/services/audit_ledger.hpp"
#include "test_host.hpp"

using namespace strata;

namespace {

struct MongoTrail {
  test::TempMongoDatabase db;
  std::filesystem::path ledger_dir =
      std::filesystem::temp_directory_path() / ("strata-ledger-mongo-" + sdk::Uuid::generate().str());
  std::unique_ptr<Host> host;

  MongoTrail() {
    host = test::open_host("[storage]\nplugin = \"memory\"\n[cipher]\nplugin = \"aes_gcm\"\nkey = \"" +
                           test::test_key_hex + "\"\n[users]\nscrypt_log2_n = 10\n" +
                           db.table("[audit]", "ledger_dir = \"" + ledger_dir.string() + "\"\n"));
    auto services = Services::open(*host, ServicesOptions{false}).value();
    auto alice = services->users().register_user("alice", "alice@example.org", "alice-password", Origin{}).value();
    auto bob = services->users().register_user("bob", "bob@example.org", "bob-password", Origin{}).value();
    for (int i = 0; i < 5; ++i)
      REQUIRE(services->messages().send({alice.id, bob.id, "message " + std::to_string(i), std::nullopt}, Origin{}));
  }  // the services' end flushes the trail and signs a checkpoint
  ~MongoTrail() {
    host.reset();
    std::filesystem::remove_all(ledger_dir);
  }

  LedgerReport verify() {
    auto ledger =
        AuditLedger::open(read_service_settings(*host).value().audit.ledger, host->clock(), host->log())
            .value();
    return ledger->verify(*host->audit()).value();
  }
  // Runs `change` on the auditlogs collection.
  template <class F>
  void tamper(F change) {
    mongoc_client_t* client = mongoc_client_new(db.uri().c_str());
    REQUIRE(client);
    mongoc_collection_t* events = mongoc_client_get_collection(client, db.name().c_str(), "auditlogs");
    change(events);
    mongoc_collection_destroy(events);
    mongoc_client_destroy(client);
  }
};

void require_one(const LedgerReport& report, const std::string& kind) {
  INFO((report.problems.empty() ? std::string("no problem") : report.problems[0].detail));
  REQUIRE(report.problem_count == 1);
  CHECK(report.problems[0].kind == kind);
}

}  // namespace

TEST_CASE("Ledger on MongoDB: verify names an edited, a deleted and an inserted document", "[ledger][mongodb]") {
  MongoTrail trail;
  auto untouched = trail.verify();
  INFO((untouched.problems.empty() ? std::string() : untouched.problems[0].detail));
  REQUIRE(untouched.ok());
  REQUIRE(untouched.events >= 7);  // two registrations, five sends
  CHECK(untouched.leaves == untouched.events);
  CHECK(untouched.checkpoints >= 2);  // in the ledger directory, and its copy in the sink's metrics
  bson_error_t error;

  SECTION("edited: one field of one document") {
    trail.tamper([&](mongoc_collection_t* events) {
      bson_t* filter = BCON_NEW("action", BCON_UTF8("message.send"));
      bson_t* update = BCON_NEW("$set", "{", "ip", BCON_UTF8("203.0.113.9"), "}");
      REQUIRE(mongoc_collection_update_one(events, filter, update, nullptr, nullptr, &error));
      bson_destroy(filter);
      bson_destroy(update);
    });
    require_one(trail.verify(), "edited");
  }
  SECTION("deleted: the newest document") {
    auto newest = trail.host->audit()->query(sdk::AuditQuery{}).value().front();
    trail.tamper([&](mongoc_collection_t* events) {
      bson_t* filter = BCON_NEW("action", BCON_UTF8(newest.action.c_str()), "resource", BCON_UTF8(newest.resource.c_str()));
      REQUIRE(mongoc_collection_delete_one(events, filter, nullptr, nullptr, &error));
      bson_destroy(filter);
    });
    auto report = trail.verify();
    require_one(report, "dropped");
    CHECK_THAT(report.problems[0].detail, Catch::Contains(newest.id.str()));
  }
  SECTION("inserted: a document written straight into the collection") {
    trail.tamper([&](mongoc_collection_t* events) {
      bson_t* doc = BCON_NEW("timestamp", BCON_DATE_TIME(sdk::Timestamp::now().micros() / 1000), "ip",
                             BCON_UTF8("::1"), "action", BCON_UTF8("user.login"), "resource", BCON_UTF8("user:x"),
                             "status", BCON_UTF8("success"), "metadata", "{", "}");
      REQUIRE(mongoc_collection_insert_one(events, doc, nullptr, nullptr, &error));
      bson_destroy(doc);
    });
    require_one(trail.verify(), "inserted");
  }
}
