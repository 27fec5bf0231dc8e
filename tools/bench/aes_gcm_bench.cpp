// Sealing through the aes_gcm plugin (Crypto++, random IV per message)
// against OpenSSL's EVP aes-256-gcm with RAND_bytes IVs, in the same run.
// Both produce a fresh IV and a fresh ciphertext+tag buffer per message and
// use 48 bytes of associated data (message id, sender, recipient).

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>

#include "bench_host.hpp"
#include "ratio_reporter.hpp"

namespace {

using namespace strata;

const sdk::Bytes aad(48, 0xa5);

void BM_StrataSeal(benchmark::State& state) {
  auto host = bench::open_or_die(std::string("[cipher]\nplugin = \"aes_gcm\"\nkey = \"") +
                                 std::string(bench::bench_key) + "\"\n");
  auto cipher = host->cipher();
  sdk::Bytes plaintext(static_cast<std::size_t>(state.range(0)), 0x42);
  for (auto _ : state) {
    auto sealed = cipher->seal(plaintext, aad);
    benchmark::DoNotOptimize(sealed);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_OpenSslSeal(benchmark::State& state) {
  auto key = sdk::from_hex(bench::bench_key).value();
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.data(), nullptr);  // key schedule once
  sdk::Bytes plaintext(static_cast<std::size_t>(state.range(0)), 0x42);
  for (auto _ : state) {
    std::array<std::uint8_t, 12> iv;
    RAND_bytes(iv.data(), iv.size());
    sdk::Bytes out(plaintext.size() + 16);
    int len = 0;
    EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data());
    EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size()));
    EVP_EncryptUpdate(ctx, out.data(), &len, plaintext.data(), static_cast<int>(plaintext.size()));
    EVP_EncryptFinal_ex(ctx, out.data() + len, &len);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out.data() + plaintext.size());
    benchmark::DoNotOptimize(iv);
    benchmark::DoNotOptimize(out);
  }
  EVP_CIPHER_CTX_free(ctx);
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

BENCHMARK(BM_StrataSeal)->Arg(256)->Arg(1024)->Arg(16384);
BENCHMARK(BM_OpenSslSeal)->Arg(256)->Arg(1024)->Arg(16384);

}  // namespace

int main(int argc, char** argv) {
  return strata::bench::run_with_ratios(argc, argv,
                                        {{"seal 256 B: aes_gcm vs OpenSSL", "BM_StrataSeal/256", "BM_OpenSslSeal/256"},
                                         {"seal 1 KiB: aes_gcm vs OpenSSL", "BM_StrataSeal/1024", "BM_OpenSslSeal/1024"},
                                         {"seal 16 KiB: aes_gcm vs OpenSSL", "BM_StrataSeal/16384", "BM_OpenSslSeal/16384"}});
}
