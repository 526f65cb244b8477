# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the emulator in the foreground: ``cd tests/lab && python -m emulator --port 5010``.

The pidfile (if asked for) is written once the socket listens, so a launcher can wait for it;
SIGTERM or SIGINT stop the server and remove the pidfile.
"""

import argparse
import os
import signal
import sys

from .server import EmulatorServer
from .settings import lab


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=5010, help="port to listen on, 0 for any (default: %(default)s)")
    parser.add_argument("--pidfile", help="write the process id here once listening; removed on exit")
    parser.add_argument(
        "--connection-lost-after",
        type=float,
        metavar="SECONDS",
        help="managed instances not pinging for this long are ConnectionLost (default: %d)"
        % lab.connection_lost_after.total_seconds(),
    )
    parser.add_argument(
        "--endpoint-region",
        metavar="REGION",
        help="the region the emulator's own host names (loopback, aws.lab.internal) stand for: an SSM agent's "
        "anonymous registration sent to them registers only with this region's activations (default: any region)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log every request")
    return parser.parse_args(argv)


def _stop(signum, _frame):
    raise SystemExit(128 + signum)


def write_pidfile(path):
    temporary = "%s.%d.tmp" % (path, os.getpid())
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write("%d\n" % os.getpid())
    os.replace(temporary, path)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    lab.set_defaults(connection_lost_after_seconds=args.connection_lost_after, endpoint_region=args.endpoint_region)
    server = EmulatorServer(args.host, args.port, verbose=not args.quiet).bind()
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        if args.pidfile:
            write_pidfile(args.pidfile)
        print("AWS emulator listening on %s (pid %d)" % (server.url, os.getpid()), flush=True)
        server.serve_forever()
    finally:
        if args.pidfile and os.path.exists(args.pidfile):
            os.remove(args.pidfile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
