// Every size and count limit the SSH stack (and the SFTP, SCP, agent,
// control and SOCKS code on top of it) enforces on input from a peer or a
// file, in one place. Peer input is hostile: each limit is checked before
// anything is allocated for it. The modules that enforce a limit refer to it
// here; "tests:" names the tests that go to the limit and one past it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ssh::limits {

// --- Transport (RFC 4253) -----------------------------------------------------

// RFC 4253 section 6.1 requires 35000; OpenSSH accepts up to 256 KiB.
// tests: TransportTest.* PacketLengthOverLimitIsProtocolError,
// LargestPacketIsAccepted... (transport_test.cpp, "kMaxPacketLength").
inline constexpr std::size_t kMaxPacketLength = 256 * 1024;
// A packet must hold at least padding-length byte, one payload byte and 4
// bytes of padding, and be at least 16 bytes in total (RFC 4253 section 6).
inline constexpr std::size_t kMinPacketLength = 5;
inline constexpr std::size_t kMaxPaddingLength = 255;

// A compressed packet's payload once decompressed (zlib, zlib@openssh.com):
// the same bound as an uncompressed one, so a small packet cannot inflate
// into an unbounded allocation.
// tests: PayloadCompression.DecompressedSizeLimitAtAndPast (compression_test.cpp).
inline constexpr std::size_t kMaxDecompressedPayload = kMaxPacketLength;

// Before authentication a client needs no large packets (the largest is a
// publickey request with a 16384-bit RSA key and signature, under 5 KiB).
// tests: ServerSessionTest.DefaultPreauthPacketLimitAtAndPast,
// RefusesLargePacketsBeforeAuthentication.
inline constexpr std::size_t kMaxPreauthPacketLength = 64 * 1024;

// Version exchange (RFC 4253 section 4.2).
// tests: LinesBeforeBannerAreToleratedUpTo1024, MoreThan1024LinesBeforeBannerFail,
// OverlongLineWithoutNewlineFails (transport_test.cpp).
inline constexpr std::size_t kMaxVersionLineLength = 255;
inline constexpr std::size_t kMaxPreBannerLines = 1024;
inline constexpr std::size_t kMaxPreBannerBytes = 64 * 1024;

// --- Wire encoding (RFC 4251) ---------------------------------------------------

// A single name-list (algorithm lists in KEXINIT, auth methods). Strings
// are bounded by the packet they are in.
// tests: Wire.NameListEntryLimitAtAndPast, Wire.NameListLengthLimitAtAndPast.
inline constexpr std::size_t kMaxNameListLength = 64 * 1024;
inline constexpr std::size_t kMaxNameListEntries = 512;

// --- Connection layer (RFC 4254) ------------------------------------------------

inline constexpr std::uint32_t kDefaultWindowSize = 2 * 1024 * 1024;
inline constexpr std::uint32_t kDefaultMaxPacketSize = 32 * 1024;
// Channels open at once on one connection, either side.
// tests: ConnectionTest.DefaultChannelLimitAtAndPast, EnforcesMaxChannels.
inline constexpr std::size_t kMaxChannels = 8192;
// Environment variables a client may send a session before its command.
// tests: SessionChannelTest.DefaultEnvironmentLimitAtAndPast.
inline constexpr std::size_t kMaxSessionEnvironment = 256;

// --- Authentication (RFC 4252, 4256) --------------------------------------------

// Failed attempts before the server disconnects (OpenSSH's MaxAuthTries).
// tests: ServerSessionTest.DefaultAuthAttemptLimitAtAndPast,
// DefaultAuthAttemptLimitPastIsRefused, ClosesAfterMaxAuthTries.
inline constexpr std::size_t kMaxAuthAttempts = 6;
// Requests that never count as failures (key queries, "none") the server takes.
// tests: ServerSessionTest.DefaultServerAuthRequestLimitAtAndPast.
inline constexpr std::size_t kMaxServerAuthRequests = 128;
// Requests our client sends before giving up on a server that never decides.
// tests: ServerSessionTest.DefaultClientAuthRequestLimitAtAndPast.
inline constexpr std::size_t kMaxClientAuthRequests = 64;
// tests: KeyboardInteractiveMessages.PromptCountLimitAtAndPast.
inline constexpr std::size_t kMaxKeyboardInteractivePrompts = 64;

// --- Keys and key files -----------------------------------------------------------

// OpenSSH refuses smaller moduli (SSH_RSA_MINIMUM_MODULUS_SIZE) and larger
// ones (OPENSSL_RSA_MAX_MODULUS_BITS); the upper bound also caps the cost a
// peer can make us pay per verification.
// tests: KeysRsa.ModulusBitsLimitAtAndPast, ModuliBelow1024BitsAreRefused.
inline constexpr std::size_t kMinRsaBits = 1024;
inline constexpr std::size_t kMaxRsaBits = 16384;
// bcrypt-pbkdf rounds in a private key file: a hostile file must not make us
// spin for hours; ssh-keygen -a users pick hundreds at most.
// tests: KeyFormatsErrors.KdfRoundsLimitAtAndPast.
inline constexpr std::uint32_t kMaxKdfRounds = 10000;
// One line of authorized_keys (a 16384-bit RSA key in base64 is ~3 KiB).
// tests: AuthorizedKeysTest.LineLengthLimitAtAndPast.
inline constexpr std::size_t kMaxAuthorizedKeysLineLength = 64 * 1024;

// --- Client configuration ----------------------------------------------------------

// ssh_config Include nesting (OpenSSH's READCONF_MAX_DEPTH).
// tests: SshConfig.IncludeDepthLimitAtAndPast.
inline constexpr int kMaxConfigIncludeDepth = 16;
// IdentityFile entries (OpenSSH's SSH_MAX_IDENTITY_FILES).
// tests: ConfigOptions.IdentityFileLimitAtAndPast.
inline constexpr std::size_t kMaxIdentityFiles = 100;

// --- Agent protocol (PROTOCOL.agent) -------------------------------------------------

// Largest agent message (OpenSSH's AGENT_MAX_LEN).
// tests: AgentProtocol.MessageLengthChecksBeforeAllocating.
inline constexpr std::size_t kMaxAgentMessageLength = 256 * 1024;
// Identities taken from one answer (OpenSSH's MAX_AGENT_IDENTITIES).
// tests: AgentProtocol.IdentityCountLimitAtAndPast.
inline constexpr std::uint32_t kMaxAgentIdentities = 2048;

// --- Connection-sharing control protocol (docs/connection-sharing.md) -------------

// tests: ControlProtocolTest.OversizedAndEmptyLengthsAreRefused,
// OversizedDataAndEnvironmentAndUnknownTypesAreRefused.
inline constexpr std::size_t kMaxControlMessageSize = 256 * 1024;
inline constexpr std::size_t kMaxControlDataChunk = 64 * 1024;
inline constexpr std::size_t kMaxControlEnvironment = 256;

// --- SOCKS (the -D proxy) ---------------------------------------------------------

// A SOCKS4a request with a 255-byte user and a 255-byte host name fits.
// tests: socks_handshake_test.cpp ("kMaxHandshakeLength").
inline constexpr std::size_t kMaxSocksHandshakeLength = 600;
// SOCKS4 user ids and SOCKS4a host names end with a NUL within this.
// tests: SocksHandshakeTest.NulTerminatedFieldLimitAtAndPast.
inline constexpr std::size_t kMaxSocksNulTerminated = 256;

// --- Host key rotation (OpenSSH PROTOCOL 2.5) ------------------------------------

// Host keys a server may announce in hostkeys-00@openssh.com (and so the
// most a client asks it to prove); an announcement with more is ignored as a
// whole. OpenSSH's client sets no count (the packet bounds it) and its sshd
// serves at most a few host key files; a real host has a handful of keys.
// tests: HostKeysRotationTest.AnnouncementLimitAtAndPast,
// ServerRefusesProveRequestPastLimit (hostkeys_rotation_test.cpp).
inline constexpr std::size_t kMaxHostKeysAnnounced = 64;

// --- SCP (legacy protocol) -----------------------------------------------------------

// A record or message line, '\n' included.
// tests: scp_protocol_test.cpp ("kMaxLineLength").
inline constexpr std::size_t kMaxScpLineLength = 8192;

// --- SFTP (draft-ietf-secsh-filexfer-02) -----------------------------------------

// The largest packet (type and body) either side accepts, as OpenSSH's
// sftp-server; a READ asks for at most kMaxSftpReadLength bytes so that its
// DATA reply fits with room to spare.
// tests: SftpServerTest.* (sftp_server_test.cpp, "kMaxPacketLength").
inline constexpr std::size_t kMaxSftpPacketLength = 256 * 1024;
inline constexpr std::size_t kMaxSftpReadLength = kMaxSftpPacketLength - 1024;
// Open file and directory handles per session (a server option's default).
// tests: SftpServerTest.DefaultHandleLimitAtAndPast,
// InvalidHandlesAreRefusedAndTheHandleCountIsBounded.
inline constexpr std::size_t kDefaultSftpMaxOpenHandles = 1024;
// Names per READDIR reply (a server option's default).
// tests: SftpServerTest.DefaultReaddirBatchLimitAtAndPast.
inline constexpr std::size_t kDefaultSftpReaddirBatch = 100;
// Symbolic links followed in one lookup (Linux's MAXSYMLINKS).
// tests: SftpServerTest.LinksPerLookupLimitAtAndPast.
inline constexpr int kMaxSftpLinksPerLookup = 40;

}  // namespace ssh::limits
