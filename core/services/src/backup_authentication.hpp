#pragma once
// A backup manifest's authentication: HMAC-SHA256 under a fresh key made for
// each backup, that key sealed by the cipher role (its primary key) and kept
// in the manifest. Only a holder of the cipher key can open the MAC key, so
// only they can write a manifest that checks out: a forger who edits a
// manifest (turns an encrypted backup into a plain one, swaps a file and
// recomputes its SHA-256) cannot make a new MAC. The manifest's plain
// SHA-256 stays, for a check without the key (`backup verify` on a machine
// that holds none).

#include <nlohmann/json.hpp>

#include "strata/export.hpp"  // STRATA_API here: exported for the project's tests only
#include "strata/sdk/cipher.hpp"

namespace strata::detail {

/// Adds "authentication" (the sealed MAC key) and "manifest_hmac" (over
/// everything else but "manifest_sha256") to `manifest`.
STRATA_API sdk::Result<void> authenticate_manifest(nlohmann::json& manifest, sdk::Cipher& cipher);

/// Checks what authenticate_manifest added, with `cipher` (which must hold
/// the key it was sealed under): `auth_failed` if the MAC does not match or
/// the MAC key does not open. A manifest without authentication is accepted
/// only when `cipher` is null: a host with a cipher always authenticates its
/// backups, so one without is a forgery (authentication stripped) or was
/// taken without a cipher, which such a host does not restore.
sdk::Result<void> check_manifest_authentication(const nlohmann::json& manifest, sdk::Cipher* cipher);

/// Whether the manifest carries authentication at all.
bool manifest_is_authenticated(const nlohmann::json& manifest);

}  // namespace strata::detail
