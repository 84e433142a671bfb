// Every size and count limit the SSH stack enforces on peer input, in one
// place. Peer input is hostile: each limit is checked before allocating.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ssh::limits {

// RFC 4253 section 6.1 requires 35000; OpenSSH accepts up to 256 KiB.
inline constexpr std::size_t kMaxPacketLength = 256 * 1024;
// A packet must hold at least padding-length byte, one payload byte and 4
// bytes of padding, and be at least 16 bytes in total (RFC 4253 section 6).
inline constexpr std::size_t kMinPacketLength = 5;
inline constexpr std::size_t kMaxPaddingLength = 255;

// Version exchange (RFC 4253 section 4.2).
inline constexpr std::size_t kMaxVersionLineLength = 255;
inline constexpr std::size_t kMaxPreBannerLines = 1024;
inline constexpr std::size_t kMaxPreBannerBytes = 64 * 1024;

// A single name-list (algorithm lists in KEXINIT, auth methods).
inline constexpr std::size_t kMaxNameListLength = 64 * 1024;
inline constexpr std::size_t kMaxNameListEntries = 512;

// Connection layer.
inline constexpr std::uint32_t kDefaultWindowSize = 2 * 1024 * 1024;
inline constexpr std::uint32_t kDefaultMaxPacketSize = 32 * 1024;
inline constexpr std::size_t kMaxChannels = 8192;

// Before authentication a client needs no large packets (the largest is a
// publickey request with a 16384-bit RSA key and signature, under 5 KiB).
inline constexpr std::size_t kMaxPreauthPacketLength = 64 * 1024;

// Authentication.
inline constexpr std::size_t kMaxAuthAttempts = 6;
inline constexpr std::size_t kMaxKeyboardInteractivePrompts = 64;

}  // namespace ssh::limits
