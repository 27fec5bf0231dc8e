// Entry point of libstrata-aes_gcm.so: the AES-256-GCM cipher.

#include "aes_gcm_cipher.hpp"

STRATA_PLUGIN("aes_gcm", STRATA_VERSION,
              "AES-256-GCM with 96-bit random IVs and 128-bit tags under a key ring (Crypto++)",
              strata::sdk::provide<strata::aes_gcm::AesGcmCipher>())
