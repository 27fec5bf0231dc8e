// `migrate up` on a database the seed's own SQL made (tests/interop/seed/):
// adopted as a baseline when identical, refused with every difference (and
// nothing changed) when not, the seed's TypeORM migration completed, two
// adopters at once, and a failing migration named by its statement.

#include <fstream>
#include <regex>
#include <thread>

#include "postgres_db.hpp"
#include "test_host.hpp"
#include "test_paths.hpp"

using namespace strata;

namespace {

constexpr int latest_version = 9;
const std::string seed_dir = strata::test::paths::source_dir() + "/tests/interop/seed/";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The seed's schema.sql, then indexes.sql (its cron.schedule line only where pg_cron is installed).
void build_seed_database(const test::TempDatabase& db) {
  db.sql(read_text(seed_dir + "schema.sql"));
  std::string indexes = read_text(seed_dir + "indexes.sql");
  if (db.sql("SELECT count(*) FROM pg_extension WHERE extname = 'pg_cron'") == "0")
    indexes = std::regex_replace(indexes, std::regex("SELECT cron\\.schedule[^\n]*"), "");
  db.sql(indexes);
}

// Everything migrate could change, as one value: columns, indexes, constraints, functions, tables.
std::string catalog_fingerprint(const test::TempDatabase& db) {
  return db.sql(
      "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM ("
      " SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable || ':' ||"
      "  COALESCE(column_default, '') AS x FROM information_schema.columns WHERE table_schema = 'public'"
      " UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'"
      " UNION ALL SELECT conname || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
      " UNION ALL SELECT proname || prosrc FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
      " UNION ALL SELECT tablename FROM pg_tables WHERE schemaname = 'public') s");
}

}  // namespace

TEST_CASE("postgres seed adoption: the copies of the seed's SQL are the seed's", "[postgres][seed][adopt]") {
  const std::filesystem::path design = strata::test::paths::source_dir() + "/../shared/seed/000_e7f3da3dbdc24ede.txt";
  if (!std::filesystem::exists(design)) {
    WARN("../shared/seed is not checked out beside the repository: the copies are not compared");
    return;
  }
  std::string text = read_text(design.string());
  std::regex sql_block("```sql\n([\\s\\S]*?)```");
  std::vector<std::string> blocks;
  for (std::sregex_iterator it(text.begin(), text.end(), sql_block), end; it != end; ++it) blocks.push_back((*it)[1]);
  REQUIRE(blocks.size() == 2);
  CHECK(blocks[0] == read_text(seed_dir + "schema.sql"));
  CHECK(blocks[1] == read_text(seed_dir + "indexes.sql"));
}

TEST_CASE("postgres seed adoption: a database the seed's SQL made is adopted as a baseline, rows and all",
          "[postgres][seed][adopt]") {
  test::TempDatabase db;
  build_seed_database(db);
  db.sql("INSERT INTO users (username, email, password_hash) VALUES ('carol', 'carol@example.org', '$2b$10$x')");
  auto host = test::open_host(db.storage_table());
  auto storage = host->storage();

  auto plan = storage->plan_migration(latest_version);
  REQUIRE(plan);
  CHECK(plan->differences.empty());
  REQUIRE(plan->steps.size() == 9);
  CHECK(plan->steps[0].action == "baseline");
  CHECK(plan->steps[1].action == "baseline");
  CHECK(plan->steps[2].action == "apply");
  CHECK(plan->steps[3].action == "apply");
  CHECK(plan->steps[4].action == "apply");
  CHECK(plan->steps[5].action == "apply");
  CHECK(db.sql("SELECT to_regclass('strata_schema_migrations') IS NULL") == "t");  // the plan wrote nothing

  REQUIRE(storage->migrate(latest_version)->current == latest_version);
  CHECK(db.sql("SELECT string_agg(version || ':' || baseline, ',' ORDER BY version) FROM strata_schema_migrations") ==
        "1:true,2:true,3:false,4:false,5:false,6:false,7:false,8:false,9:false");
  CHECK(storage->health());
  auto carol = storage->find_user_by_username("carol");
  REQUIRE(carol);
  CHECK(carol->password_hash == "$2b$10$x");
  CHECK(db.sql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'strata_seed_reference%'") == "0");

  // Going back never drops what the seed made.
  auto down = storage->migrate(0);
  REQUIRE_FALSE(down);
  CHECK(down.error().code == sdk::ErrorCode::conflict);
  CHECK(down.error().message.find("2_performance was adopted from the seed's own SQL") != std::string::npos);
  CHECK(storage->migrate(2)->current == 2);  // Strata's own additions do come off
  CHECK(db.sql("SELECT count(*) FROM users") == "1");
}

TEST_CASE("postgres seed adoption: each way a database differs from the seed is refused, naming it, changing nothing",
          "[postgres][seed][adopt]") {
  struct Case {
    const char* change;
    const char* refusal;  // empty: harmless, adopted with a note
  };
  const Case cases[] = {
      {"ALTER TABLE messages ALTER COLUMN iv TYPE text", "column messages.iv: the seed has type bytea, found text"},
      {"DROP INDEX idx_messages_created",
       "index idx_messages_created: the seed's schema.sql creates it; not found"},
      {"ALTER TABLE users ALTER COLUMN is_active SET NOT NULL",
       "column users.is_active: the seed has it nullable, found NOT NULL"},
      {"ALTER TABLE users ALTER COLUMN created_at DROP DEFAULT",
       "column users.created_at: the seed's default is now(), found none"},
      {"ALTER TABLE messages ADD COLUMN tenant integer NOT NULL",
       "column messages.tenant (integer NOT NULL): not in the seed, and NOT NULL without a default"},
      {"ALTER TABLE users ADD CONSTRAINT name_length CHECK (length(username) > 2)",
       "constraint name_length on users (CHECK ((length((username)::text) > 2))): not in the seed"},
      {"CREATE UNIQUE INDEX one_per_second ON messages (created_at)",
       "index one_per_second (CREATE UNIQUE INDEX one_per_second ON messages USING btree (created_at)): not in the "
       "seed, and unique"},
      {"DROP INDEX idx_users_composite; CREATE INDEX idx_users_composite ON users (username)",
       "index idx_users_composite: the seed has CREATE INDEX idx_users_composite ON users USING btree (username, "
       "email, is_active), found CREATE INDEX idx_users_composite ON users USING btree (username)"},
      {"CREATE OR REPLACE FUNCTION cleanup_old_messages() RETURNS void AS $$ BEGIN DELETE FROM messages; END; $$ "
       "LANGUAGE plpgsql",
       "function cleanup_old_messages(): its body differs from the seed's"},
      {"ALTER TABLE users ADD COLUMN nickname text", ""},
      {"ALTER TABLE users ADD COLUMN tenant integer NOT NULL DEFAULT 0", ""},
      {"CREATE INDEX users_by_login ON users (last_login)", ""},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.change) {
      test::TempDatabase db;
      build_seed_database(db);
      db.sql(c.change);
      const std::string before = catalog_fingerprint(db);
      auto host = test::open_host(db.storage_table());
      auto plan = host->storage()->plan_migration(latest_version);
      REQUIRE(plan);
      auto migrated = host->storage()->migrate(latest_version);
      if (std::string(c.refusal).empty()) {
        CHECK(plan->differences.empty());
        CHECK(plan->notes.size() == 1);
        INFO((migrated ? std::string() : migrated.error().message));
        CHECK(migrated);
        continue;
      }
      REQUIRE(plan->differences.size() == 1);
      CHECK(plan->differences[0].find(c.refusal) != std::string::npos);
      REQUIRE_FALSE(migrated);
      INFO(migrated.error().message);
      CHECK(migrated.error().code == sdk::ErrorCode::conflict);
      CHECK(migrated.error().message.find("nothing was changed") != std::string::npos);
      CHECK(migrated.error().message.find(c.refusal) != std::string::npos);
      CHECK(catalog_fingerprint(db) == before);
      CHECK(db.sql("SELECT to_regclass('strata_schema_migrations') IS NULL") == "t");
    }
  }
}

TEST_CASE("postgres seed adoption: the seed's TypeORM migration (users only) is completed", "[postgres][seed][adopt]") {
  test::TempDatabase db;
  // What TypeORM leaves: uuid-ossp, users exactly as 001_initial creates it, and its own migrations table.
  db.sql("CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"");
  std::string schema = read_text(seed_dir + "schema.sql");
  auto users_start = schema.find("CREATE TABLE users");
  db.sql(schema.substr(users_start, schema.find(";", users_start) - users_start + 1));
  db.sql("CREATE TABLE migrations (id SERIAL PRIMARY KEY, timestamp bigint NOT NULL, name character varying NOT NULL);"
         "INSERT INTO migrations (timestamp, name) VALUES (1700000000000, 'InitialMigration1700000000000')");
  auto host = test::open_host(db.storage_table());
  auto plan = host->storage()->plan_migration(latest_version);
  REQUIRE(plan);
  CHECK(plan->differences.empty());
  CHECK(plan->steps[0].action == "complete");
  CHECK(plan->steps[1].action == "apply");
  REQUIRE(host->storage()->migrate(latest_version));
  CHECK(host->storage()->health());
  CHECK(db.sql("SELECT count(*) FROM pg_indexes WHERE indexname IN ('idx_messages_sender', 'idx_messages_recipient',"
               " 'idx_messages_created', 'idx_encryption_keys_user')") == "4");
  CHECK(db.sql("SELECT count(*) FROM migrations") == "1");  // TypeORM's own table is left alone

  // Without TypeORM's record, users alone is a partial schema.sql: refused.
  test::TempDatabase bare;
  bare.sql("CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"");
  bare.sql(schema.substr(users_start, schema.find(";", users_start) - users_start + 1));
  auto refused = test::open_host(bare.storage_table())->storage()->migrate(latest_version);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("table messages: the seed's schema.sql creates it; not found") != std::string::npos);
}

TEST_CASE("postgres seed adoption: two processes adopting at once: one adopts, the other finds it done",
          "[postgres][seed][adopt]") {
  test::TempDatabase db;
  build_seed_database(db);
  auto a = test::open_host(db.storage_table());
  auto b = test::open_host(db.storage_table());
  sdk::Result<sdk::SchemaStatus> ra, rb;
  std::thread ta([&] { ra = a->storage()->migrate(latest_version); });
  std::thread tb([&] { rb = b->storage()->migrate(latest_version); });
  ta.join();
  tb.join();
  INFO((ra ? std::string() : ra.error().message) << (rb ? std::string() : rb.error().message));
  REQUIRE(ra);
  REQUIRE(rb);
  CHECK(ra->current == latest_version);
  CHECK(rb->current == latest_version);
  CHECK(db.sql("SELECT count(*) FROM strata_schema_migrations") == std::to_string(latest_version));
}

TEST_CASE("postgres seed adoption: a failing migration names itself and its statement, as a conflict",
          "[postgres][migrate][adopt]") {
  test::TempDatabase db;
  build_seed_database(db);
  db.sql("CREATE TABLE strata_audit_outbox (x integer)");  // in the way of migration 4
  auto failed = test::open_host(db.storage_table())->storage()->migrate(latest_version);
  REQUIRE_FALSE(failed);
  INFO(failed.error().message);
  CHECK(failed.error().code == sdk::ErrorCode::conflict);
  CHECK(failed.error().message.starts_with(
      "migration 4_audit_outbox up failed at line 8, `CREATE TABLE strata_audit_outbox (…`: ERROR:  relation "
      "\"strata_audit_outbox\" already exists"));
  CHECK(db.sql("SELECT to_regclass('strata_schema_migrations') IS NULL") == "t");  // one transaction: all undone
}
