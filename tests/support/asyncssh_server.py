#!/usr/bin/python3
"""A throw-away AsyncSSH server for limactl's interop tests.

Run with Debian's /usr/bin/python3 (python3-asyncssh belongs to it). It
listens on 127.0.0.1 (port 0: the kernel picks a free one), writes the port
number to --port-file once it listens, accepts the public keys listed in
--authorized-keys for any user (--signature-algs limits the signature
algorithms it uses and advertises in server-sig-algs), and runs each exec request's command with
`/bin/sh -c COMMAND` (a shell request gets plain `/bin/sh` reading stdin).
stdin, stdout, stderr and the exit status are passed through; all output is
sent before the exit status. It runs until SIGTERM or SIGINT.
"""

import argparse
import asyncio
import logging
import os
import signal
import sys

import asyncssh

CHUNK = 64 * 1024


async def _copy_to_channel(source, channel_writer):
    """Copies a child's stdout/stderr pipe to the channel until EOF."""
    while True:
        data = await source.read(CHUNK)
        if not data:
            return
        channel_writer.write(data)
        await channel_writer.drain()


async def _copy_from_channel(channel_reader, child_stdin):
    """Copies the channel's data to the child's stdin; closes it at EOF."""
    try:
        while True:
            data = await channel_reader.read(CHUNK)
            if not data:
                break
            child_stdin.write(data)
            await child_stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        child_stdin.close()


async def handle_process(process):
    command = process.command
    argv = ["/bin/sh", "-c", command] if command is not None else ["/bin/sh"]
    logging.info("running %r", argv)
    child = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    feeder = asyncio.ensure_future(_copy_from_channel(process.stdin, child.stdin))
    try:
        await asyncio.gather(
            _copy_to_channel(child.stdout, process.stdout),
            _copy_to_channel(child.stderr, process.stderr),
        )
        status = await child.wait()
    finally:
        feeder.cancel()
    if status < 0:  # killed by a signal: report it the way a shell would
        status = 128 - status
    logging.info("command %r exited with %d", argv, status)
    process.stdout.write_eof()
    process.exit(status)


async def serve(args):
    options = {}
    if args.signature_algs:
        # Also what the server advertises in server-sig-algs.
        options["signature_algs"] = args.signature_algs.split(",")
    server = await asyncssh.create_server(
        asyncssh.SSHServer,
        "127.0.0.1",
        0,
        server_host_keys=[args.host_key],
        authorized_client_keys=args.authorized_keys,
        process_factory=handle_process,
        encoding=None,
        allow_scp=False,
        **options,
    )
    port = server.sockets[0].getsockname()[1]
    temporary = args.port_file + ".tmp"
    with open(temporary, "w") as out:
        out.write("%d\n" % port)
    os.replace(temporary, args.port_file)
    logging.info("listening on 127.0.0.1:%d", port)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host-key", required=True, help="host private key (OpenSSH format)")
    parser.add_argument("--authorized-keys", required=True, help="authorized_keys file")
    parser.add_argument("--port-file", required=True, help="where to write the port number")
    parser.add_argument(
        "--signature-algs",
        default="",
        help="comma-separated signature algorithms to allow and advertise (default: asyncssh's)",
    )
    parser.add_argument("--debug", type=int, default=1, help="asyncssh debug level 1-3")
    args = parser.parse_args()
    logging.basicConfig(
        stream=sys.stderr, level=logging.DEBUG, format="%(asctime)s %(name)s %(message)s"
    )
    asyncssh.set_debug_level(args.debug)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
