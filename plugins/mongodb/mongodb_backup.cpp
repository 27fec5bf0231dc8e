#include "mongodb_backup.hpp"

#include <fstream>

namespace strata::mongodb {
namespace {

using sdk::ErrorCode;
using sdk::fail;
using Cursor = std::unique_ptr<mongoc_cursor_t, decltype(&mongoc_cursor_destroy)>;

// Appends every document of `cursor` to `out`; returns how many.
sdk::Result<std::uint64_t> drain(mongoc_cursor_t* cursor, std::ofstream& out, const std::string& what) {
  std::uint64_t n = 0;
  const bson_t* doc = nullptr;
  while (mongoc_cursor_next(cursor, &doc)) {
    out.write(reinterpret_cast<const char*>(bson_get_data(doc)), static_cast<std::streamsize>(doc->len));
    ++n;
  }
  bson_error_t error;
  if (mongoc_cursor_error(cursor, &error)) return sdk::fail(classify(error, what));
  return n;
}

// Every document of a .bson file (documents back to back).
sdk::Result<std::vector<Bson>> read_documents(const std::filesystem::path& file) {
  bson_error_t error;
  auto* reader = bson_reader_new_from_file(file.c_str(), &error);
  if (!reader) return fail(ErrorCode::not_found, "cannot read " + file.string() + ": " + error.message);
  std::vector<Bson> docs;
  bool eof = false;
  while (const bson_t* doc = bson_reader_read(reader, &eof)) docs.push_back(owned(bson_copy(doc)));
  bson_reader_destroy(reader);
  if (!eof) return fail(ErrorCode::invalid_argument, file.string() + " is truncated or not BSON");
  return docs;
}

// {createIndexes: name, indexes: [specs without _id_, v and ns]}, without TTL options if asked.
Bson create_indexes_command(const std::string& name, const std::vector<Bson>& specs, bool with_ttl) {
  auto command = owned(bson_new());
  BSON_APPEND_UTF8(command.get(), "createIndexes", name.c_str());
  bson_t list;
  BSON_APPEND_ARRAY_BEGIN(command.get(), "indexes", &list);
  int n = 0;
  for (const auto& spec : specs) {
    bson_iter_t it;
    if (bson_iter_init_find(&it, spec.get(), "name") && std::string(bson_iter_utf8(&it, nullptr)) == "_id_") continue;
    bson_t copy;
    bson_init(&copy);
    bson_copy_to_excluding_noinit(spec.get(), &copy, "v", "ns", with_ttl ? nullptr : "expireAfterSeconds", nullptr);
    std::string position = std::to_string(n++);  // BSON_APPEND_* evaluate the key twice
    BSON_APPEND_DOCUMENT(&list, position.c_str(), &copy);
    bson_destroy(&copy);
  }
  bson_append_array_end(command.get(), &list);
  return command;
}

}  // namespace

sdk::Result<std::uint64_t> dump_collection(Client& client, const std::string& name, const std::filesystem::path& dir,
                                           std::vector<std::string>& files) {
  auto lease = client.lease();
  auto collection = client.collection(lease, name);
  std::string documents = name + ".bson", indexes = name + ".indexes.bson";
  std::ofstream out(dir / documents, std::ios::binary | std::ios::trunc);
  auto filter = owned(bson_new());
  Cursor cursor(mongoc_collection_find_with_opts(collection.get(), filter.get(), nullptr, nullptr),
                &mongoc_cursor_destroy);
  auto count = drain(cursor.get(), out, "dumping " + name);
  if (!count) return count;
  std::ofstream index_out(dir / indexes, std::ios::binary | std::ios::trunc);
  Cursor index_cursor(mongoc_collection_find_indexes_with_opts(collection.get(), nullptr), &mongoc_cursor_destroy);
  auto listed = drain(index_cursor.get(), index_out, "listing the indexes of " + name);
  // A collection that does not exist yet has no indexes: that is an empty dump, not an error.
  if (!listed && listed.error().message.find("ns does not exist") == std::string::npos &&
      listed.error().message.find("NamespaceNotFound") == std::string::npos)
    return sdk::fail(listed.error());
  if (!out.flush() || !index_out.flush())
    return fail(ErrorCode::unavailable, "cannot write the dump of " + name + " into " + dir.string());
  files.push_back(documents);
  files.push_back(indexes);
  return count;
}

sdk::Result<std::uint64_t> restore_collection(Client& client, const std::string& name,
                                              const std::filesystem::path& dir) {
  auto documents = read_documents(dir / (name + ".bson"));
  if (!documents) return sdk::fail(documents.error());
  auto specs = read_documents(dir / (name + ".indexes.bson"));
  if (!specs) return sdk::fail(specs.error());

  auto lease = client.lease();
  auto collection = client.collection(lease, name);
  bson_error_t error;
  if (!mongoc_collection_drop(collection.get(), &error) && error.code != 26)  // 26: NamespaceNotFound
    return sdk::fail(classify(error, "dropping " + name + " before the restore"));
  for (std::size_t start = 0; start < documents->size(); start += 1000) {
    std::vector<const bson_t*> batch;
    for (std::size_t i = start; i < std::min(documents->size(), start + 1000); ++i) batch.push_back((*documents)[i].get());
    auto opts = owned(bson_new());
    client.add_write_concern(opts.get());
    if (!mongoc_collection_insert_many(collection.get(), batch.data(), batch.size(), opts.get(), nullptr, &error))
      return sdk::fail(classify(error, "restoring the documents of " + name));
  }
  if (!specs->empty()) {
    auto database = std::unique_ptr<mongoc_database_t, decltype(&mongoc_database_destroy)>(
        mongoc_client_get_database(lease.get(), client.settings().database.c_str()), &mongoc_database_destroy);
    for (bool with_ttl : {true, false}) {
      auto command = create_indexes_command(name, *specs, with_ttl);
      if (mongoc_database_write_command_with_opts(database.get(), command.get(), nullptr, nullptr, &error)) break;
      bool ttl_refused = std::string(error.message).find("expireAfterSeconds") != std::string::npos;
      if (!with_ttl || !ttl_refused) return sdk::fail(classify(error, "recreating the indexes of " + name));
    }
  }
  return static_cast<std::uint64_t>(documents->size());
}

sdk::Result<bool> collection_has_documents(Client& client, const std::string& name) {
  auto lease = client.lease();
  auto collection = client.collection(lease, name);
  auto filter = owned(bson_new());
  auto opts = owned(BCON_NEW("limit", BCON_INT64(1)));
  bson_error_t error;
  int64_t n = mongoc_collection_count_documents(collection.get(), filter.get(), opts.get(), nullptr, nullptr, &error);
  if (n < 0) return sdk::fail(classify(error, "counting " + name));
  return n > 0;
}

}  // namespace strata::mongodb
