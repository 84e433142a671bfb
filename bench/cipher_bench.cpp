// Throughput of packet protection: one seal and one open (with
// decrypt_length, as the transport does) of a packet carrying 32 KiB of
// payload, the largest channel data packet OpenSSH sends by default.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ssh/crypto/cipher.hpp"
#include "ssh/wire/writer.hpp"

namespace {

using ssh::crypto::DirectionKeys;

constexpr std::size_t kPayloadSize = 32 * 1024;

ssh::Bytes plaintext_packet(const ssh::crypto::PacketSealer& sealer) {
  const std::size_t block = sealer.block_size();
  const std::size_t unpadded = 1 + kPayloadSize + (sealer.length_outside_alignment() ? 0 : 4);
  std::size_t padding = block - unpadded % block;
  if (padding < 4) padding += block;
  ssh::Bytes packet;
  ssh::wire::Writer writer(packet);
  writer.u32(static_cast<std::uint32_t>(1 + kPayloadSize + padding));
  writer.u8(static_cast<std::uint8_t>(padding));
  packet.resize(packet.size() + kPayloadSize + padding, 0x42);
  return packet;
}

void seal_and_open(benchmark::State& state, const std::string& cipher, const std::string& mac) {
  const auto sizes = ssh::crypto::key_sizes(cipher, mac);
  if (!sizes) {
    state.SkipWithError("unknown cipher or MAC");
    return;
  }
  DirectionKeys keys;
  keys.iv.assign(sizes->iv, 0x01);
  keys.cipher_key.assign(sizes->cipher_key, 0x02);
  keys.mac_key.assign(sizes->mac_key, 0x03);
  auto sealer = ssh::crypto::make_sealer(cipher, mac, keys);
  auto opener = ssh::crypto::make_opener(cipher, mac, keys);
  if (!sealer || !opener) {
    state.SkipWithError("cipher unavailable");
    return;
  }
  const ssh::Bytes plaintext = plaintext_packet(*sealer);
  ssh::Bytes packet = plaintext;
  ssh::Bytes tag(sealer->tag_size());
  std::uint32_t sequence = 0;
  for (auto _ : state) {
    // Reset the length field only: the rest is encrypted data either way,
    // and copying the whole packet back would be measured too.
    std::copy_n(plaintext.begin(), 4, packet.begin());
    sealer->seal(sequence, packet, tag);
    opener->decrypt_length(sequence,
                           ssh::MutableByteView(packet).first(opener->length_prefix_size()));
    if (!opener->open(sequence, packet, tag)) {
      state.SkipWithError("open failed");
      return;
    }
    benchmark::DoNotOptimize(packet.data());
    ++sequence;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kPayloadSize));
  state.SetLabel(ssh::crypto::cpu_has_aes() ? "AES instructions" : "no AES instructions");
}

void register_cipher_benchmarks() {
  const std::pair<const char*, const char*> suites[] = {
      {"chacha20-poly1305@openssh.com", ""},
      {"aes128-gcm@openssh.com", ""},
      {"aes256-gcm@openssh.com", ""},
      {"aes128-ctr", "hmac-sha2-256-etm@openssh.com"},
      {"aes256-ctr", "hmac-sha2-256-etm@openssh.com"},
      {"aes256-ctr", "hmac-sha2-512-etm@openssh.com"},
      {"aes128-ctr", "hmac-sha2-256"},
      {"aes192-ctr", "hmac-sha2-512"},
  };
  for (const auto& [cipher, mac] : suites) {
    std::string name = std::string("CipherSealOpen32KiB/") + cipher;
    if (*mac != '\0') name += std::string("+") + mac;
    benchmark::RegisterBenchmark(name.c_str(), seal_and_open, std::string(cipher),
                                 std::string(mac));
  }
}

// Registered before main() runs, as BENCHMARK() would.
const bool registered = (register_cipher_benchmarks(), true);

}  // namespace
