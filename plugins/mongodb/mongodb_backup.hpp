#pragma once
// Driver-based dump and restore of one collection (mongodump is not packaged
// here). <name>.bson holds the documents back to back, exactly as stored (the
// format mongodump writes); <name>.indexes.bson the index definitions.

#include <filesystem>
#include <string>
#include <vector>

#include "mongodb_connection.hpp"

namespace strata::mongodb {

/// Writes the collection's documents and index definitions into `dir`,
/// adding the file names to `files`; returns how many documents.
sdk::Result<std::uint64_t> dump_collection(Client& client, const std::string& name, const std::filesystem::path& dir,
                                           std::vector<std::string>& files);

/// Replaces the collection with the dump in `dir`: drop, insert every
/// document, recreate every index (a TTL option the server refuses is left
/// out, as Client::ensure_indexes does). Returns how many documents.
sdk::Result<std::uint64_t> restore_collection(Client& client, const std::string& name,
                                              const std::filesystem::path& dir);

/// Whether the collection holds any document.
sdk::Result<bool> collection_has_documents(Client& client, const std::string& name);

}  // namespace strata::mongodb
