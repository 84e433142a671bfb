// What each key exchange method costs the client and the server, as
// handshakes per second of that side's computation (items/s): the client
// makes its key pair and agrees on the server's reply; the server answers
// one client value. Only the method's own work: no host key signature, no
// packets (the same for every method).
#include <benchmark/benchmark.h>
#include <botan/auto_rng.h>

#include <string>

#include "ssh/kex/kex.hpp"

namespace {

using ssh::Bytes;

void BM_KexClient(benchmark::State& state, const std::string& name) {
  Botan::AutoSeeded_RNG rng;
  for (auto _ : state) {
    state.PauseTiming();
    // The server's reply to a fresh client value is made outside the timing.
    auto client = ssh::kex::make_kex(name);
    auto server = ssh::kex::make_kex(name);
    state.ResumeTiming();
    const Bytes client_value = client->generate(rng);
    state.PauseTiming();
    auto reply = server->respond(client_value, rng);
    if (!reply) {
      state.SkipWithError(reply.error().message.c_str());
      return;
    }
    state.ResumeTiming();
    auto shared_secret = client->agree(reply->server_public);
    if (!shared_secret || *shared_secret != reply->shared_secret) {
      state.SkipWithError("the two sides disagree");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_KexServer(benchmark::State& state, const std::string& name) {
  Botan::AutoSeeded_RNG rng;
  auto client = ssh::kex::make_kex(name);
  const Bytes client_value = client->generate(rng);
  for (auto _ : state) {
    auto server = ssh::kex::make_kex(name);
    auto reply = server->respond(client_value, rng);
    if (!reply) {
      state.SkipWithError(reply.error().message.c_str());
      return;
    }
    benchmark::DoNotOptimize(reply->shared_secret.data());
  }
  state.SetItemsProcessed(state.iterations());
}

#define KEX_BENCHMARKS(label, name)                          \
  BENCHMARK_CAPTURE(BM_KexClient, label, std::string(name)); \
  BENCHMARK_CAPTURE(BM_KexServer, label, std::string(name))

KEX_BENCHMARKS(curve25519_sha256, "curve25519-sha256");
KEX_BENCHMARKS(mlkem768x25519_sha256, "mlkem768x25519-sha256");
KEX_BENCHMARKS(sntrup761x25519_sha512, "sntrup761x25519-sha512");
KEX_BENCHMARKS(ecdh_sha2_nistp256, "ecdh-sha2-nistp256");
KEX_BENCHMARKS(diffie_hellman_group16_sha512, "diffie-hellman-group16-sha512");

}  // namespace
