#!/usr/bin/env python3
"""Writes the seed corpora of the protocol fuzz targets into corpus/<target>/.

The seeds are built here from the RFCs' message layouts (RFC 4253, 4252,
4254; SFTP draft-02) so they are small, readable and reproducible: run this
again after changing it and commit what it writes. The framing matches
tests/fuzz/fuzz_input.hpp: a message is a 2-byte big-endian length (its top
bit is the message's flag) and that many bytes.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def u8(n): return bytes([n])
def u32(n): return struct.pack(">I", n)
def u64(n): return struct.pack(">Q", n)
def string(b): return u32(len(b)) + (b.encode() if isinstance(b, str) else b)
def name_list(names): return string(",".join(names))
def boolean(b): return u8(1 if b else 0)


def message(payload, flag=False):
    length = len(payload)
    assert length < 0x8000
    return struct.pack(">H", length | (0x8000 if flag else 0)) + payload


def plain_packet(payload):
    padding = 8 - (5 + len(payload)) % 8
    if padding < 4:
        padding += 8
    return u32(1 + len(payload) + padding) + u8(padding) + payload + bytes(padding)


KEX = ["curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256",
       "diffie-hellman-group14-sha256"]
HOST_KEYS = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"]
CIPHERS = ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
           "aes128-ctr"]
MACS = ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-256"]


def kexinit(kex, host_keys=HOST_KEYS, ciphers=CIPHERS, macs=MACS, follows=False):
    return (u8(20) + bytes(range(16)) + name_list(kex) + name_list(host_keys) +
            name_list(ciphers) + name_list(ciphers) + name_list(macs) + name_list(macs) +
            name_list(["none", "zlib@openssh.com"]) + name_list(["none"]) + name_list([]) +
            name_list([]) + boolean(follows) + u32(0))


CLIENT_KEXINIT = kexinit(KEX + ["ext-info-c", "kex-strict-c-v00@openssh.com"])
SERVER_KEXINIT = kexinit(KEX + ["kex-strict-s-v00@openssh.com"])
ECDH_INIT = u8(30) + string(bytes(range(32)))


def write(target, name, data):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def transport_seeds():
    client_flight = b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n" + plain_packet(CLIENT_KEXINIT)
    server_flight = b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n" + plain_packet(SERVER_KEXINIT)
    # Byte 0: bit 0 = client role, the rest picks the cut.
    write("fuzz_transport_prekex", "server_kexinit", b"\x10" + client_flight)
    write("fuzz_transport_prekex", "server_kexinit_ecdh",
          b"\x22" + client_flight + plain_packet(ECDH_INIT))
    write("fuzz_transport_prekex", "server_pre_banner_lines",
          b"\x30" + b"hello\r\nnot ssh yet\n" + client_flight)
    write("fuzz_transport_prekex", "client_kexinit", b"\x11" + server_flight)
    write("fuzz_transport_prekex", "client_guess_follows",
          b"\x13" + b"SSH-2.0-x\r\n" + plain_packet(kexinit(KEX, follows=True)) +
          plain_packet(ECDH_INIT))

    write("fuzz_kex_negotiation", "openssh_pair", message(CLIENT_KEXINIT) + message(SERVER_KEXINIT))
    write("fuzz_kex_negotiation", "no_common_cipher",
          message(kexinit(KEX, ciphers=["aes128-ctr"])) +
          message(kexinit(KEX, ciphers=["aes256-ctr"])))
    write("fuzz_kex_negotiation", "rsa_only",
          message(kexinit(["diffie-hellman-group16-sha512"], host_keys=["rsa-sha2-256"])) +
          message(kexinit(["diffie-hellman-group16-sha512", "curve25519-sha256"],
                          host_keys=["ssh-rsa", "rsa-sha2-256"])))

    ignore = u8(2) + string("padding")
    debug = u8(4) + boolean(True) + string("debug text") + string("en")
    unimplemented = u8(3) + u32(7)
    service = u8(5) + string("ssh-userauth")
    ext_info = u8(7) + u32(1) + string("server-sig-algs") + string("ssh-ed25519,rsa-sha2-256")
    channel_open = u8(90) + string("session") + u32(0) + u32(65536) + u32(32768)
    write("fuzz_transport_postkex", "ignore_debug_unimplemented",
          message(ignore) + message(debug, flag=True) + message(unimplemented))
    write("fuzz_transport_postkex", "client_rekey", message(CLIENT_KEXINIT))
    write("fuzz_transport_postkex", "server_rekey", message(SERVER_KEXINIT, flag=True))
    write("fuzz_transport_postkex", "service_and_channel",
          message(service) + message(ext_info, flag=True) + message(channel_open))
    write("fuzz_transport_postkex", "kex_message_out_of_place", message(ECDH_INIT) + message(u8(21)))
    write("fuzz_transport_postkex", "disconnect",
          message(u8(1) + u32(11) + string("bye") + string("")))


def connection_seeds():
    session_open = u8(90) + string("session") + u32(5) + u32(2 * 1024 * 1024) + u32(32768)
    exec_request = u8(98) + u32(0) + string("exec") + boolean(True) + string("uname -a")
    env_request = u8(98) + u32(0) + string("env") + boolean(False) + string("LANG") + string("C")
    data = u8(94) + u32(0) + string(b"x" * 1000)
    extended = u8(95) + u32(0) + u32(1) + string(b"err")
    adjust = u8(93) + u32(0) + u32(100000)
    eof = u8(96) + u32(0)
    close = u8(97) + u32(0)
    # Our own channel (id 0) opened first: the peer confirms or refuses it.
    confirm_ours = u8(91) + u32(0) + u32(9) + u32(1024 * 1024) + u32(32768)
    refuse_ours = u8(92) + u32(0) + u32(2) + string("no") + string("")
    direct = (u8(90) + string("direct-tcpip") + u32(6) + u32(65536) + u32(32768) +
              string("127.0.0.1") + u32(80) + string("127.0.0.1") + u32(4000))
    forward = u8(80) + string("tcpip-forward") + boolean(True) + string("") + u32(0)
    keepalive = u8(80) + string("keepalive@openssh.com") + boolean(True)
    reply = u8(81)
    for role, name in ((0, "server"), (1, "client")):
        write("fuzz_connection", name + "_session",
              u8(role) + message(session_open) + message(exec_request, flag=True) +
              message(env_request) + message(data) + message(extended) + message(adjust) +
              message(eof, flag=True) + message(close))
        write("fuzz_connection", name + "_our_channel",
              u8(role) + message(confirm_ours) + message(adjust) + message(data) +
              message(reply) + message(close))
        write("fuzz_connection", name + "_refused_and_forwards",
              u8(role) + message(refuse_ours) + message(direct) + message(data) +
              message(forward) + message(keepalive))


def sftp_packet(kind, body):
    return u32(1 + len(body)) + u8(kind) + body


def sftp_seeds():
    init = sftp_packet(1, u32(3))
    attrs_none = u32(0)
    attrs_mode = u32(4) + u32(0o600)
    requests = [
        sftp_packet(16, u32(1) + string(".")),                                   # REALPATH
        sftp_packet(3, u32(2) + string("file") + u32(1) + attrs_none),           # OPEN read
        sftp_packet(5, u32(3) + string(b"\0\0\0\0") + u64(0) + u32(4096)),       # READ
        sftp_packet(3, u32(4) + string("new") + u32(0x1a) + attrs_mode),         # OPEN write|creat|trunc
        sftp_packet(6, u32(5) + string(b"\0\0\0\1") + u64(0) + string("data")), # WRITE
        sftp_packet(4, u32(6) + string(b"\0\0\0\1")),                            # CLOSE
        sftp_packet(11, u32(7) + string("dir")),                                 # OPENDIR
        sftp_packet(12, u32(8) + string(b"\0\0\0\2")),                           # READDIR
        sftp_packet(17, u32(9) + string("up")),                                  # STAT
        sftp_packet(7, u32(10) + string("abs")),                                 # LSTAT
        sftp_packet(19, u32(11) + string("up")),                                 # READLINK
        sftp_packet(20, u32(12) + string("../srv/secret") + string("link")),     # SYMLINK
        sftp_packet(18, u32(13) + string("new") + string("../moved")),           # RENAME
        sftp_packet(9, u32(14) + string("up") + attrs_mode),                     # SETSTAT
        sftp_packet(14, u32(15) + string("sub") + attrs_none),                   # MKDIR
        sftp_packet(13, u32(16) + string("file")),                               # REMOVE
        sftp_packet(200, u32(17) + string("posix-rename@openssh.com") + string("dir") +
                    string("/../../dir2")),
        sftp_packet(200, u32(18) + string("hardlink@openssh.com") + string("abs") + string("h")),
        sftp_packet(200, u32(19) + string("statvfs@openssh.com") + string("/")),
        sftp_packet(200, u32(20) + string("limits@openssh.com")),
        sftp_packet(200, u32(21) + string("expand-path@openssh.com") + string("~/x")),
        sftp_packet(200, u32(22) + string("copy-data") + string(b"\0\0\0\0") + u64(0) + u64(0) +
                    string(b"\0\0\0\1") + u64(0)),
    ]
    write("fuzz_sftp_server", "session", b"\x40" + init + b"".join(requests))
    write("fuzz_sftp_server", "session_read_only", b"\x41" + init + b"".join(requests))
    write("fuzz_sftp_server", "init_only", b"\x00" + init)


def client_auth_seeds():
    # What a server answers our client's requests with (RFC 4252, 4256, 8308).
    def failure(methods, partial=False): return u8(51) + name_list(methods) + boolean(partial)
    success = u8(52)
    banner = u8(53) + string("Authorized use only\r\n") + string("en")
    info_request = (u8(60) + string("name") + string("instruction") + string("") + u32(2) +
                    string("Password: ") + boolean(False) + string("Code: ") + boolean(True))
    ext_info = u8(7) + u32(1) + string("server-sig-algs") + string("ssh-ed25519,rsa-sha2-512")
    every_method = ["publickey", "keyboard-interactive", "password"]
    write("fuzz_client_auth", "publickey_accepted",
          message(ext_info) + message(failure(["publickey"])) + message(success))
    write("fuzz_client_auth", "banner_then_every_method_refused",
          message(banner) + message(failure(every_method)) + message(failure(every_method)) +
          message(failure(every_method)) + message(failure(every_method)) +
          message(failure(every_method)))
    write("fuzz_client_auth", "keyboard_interactive",
          message(failure(["keyboard-interactive"])) + message(info_request) +
          message(u8(60) + string("") + string("") + string("") + u32(0)) + message(success))
    write("fuzz_client_auth", "partial_success_then_password",
          message(failure(every_method)) + message(failure(["password"], partial=True)) +
          message(success))


if __name__ == "__main__":
    client_auth_seeds()
    transport_seeds()
    connection_seeds()
    sftp_seeds()
