# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site's HTTP proxy: the only way out of the lab hosts (``python -m labctl.proxy``).

Listens on each host's veth gateway address. Plain HTTP (absolute-URI requests, keep-alive when the
response is framed) and ``CONNECT`` tunnels, like a corporate forward proxy with an allowlist:

* ``--route NAME:PORT=IP:PORT`` maps the names the hosts use for the lab's services (the AWS
  emulator, the artifact mirror) to where they listen on this machine's loopback;
* ``--allow-host NAME`` lets requests through to that host (the Debian mirror) on ports 80 and 443;
* everything else is refused with ``403``, and only clients in ``--allow-client`` networks are served;
* with ``--credentials-file`` (holding ``USER:PASSWORD``) every request must carry ``Proxy-Authorization: Basic ...``
  (RFC 9110 11.7.1, what Squid and corporate proxies ask for); anything else gets ``407`` with
  ``Proxy-Authenticate: Basic``. Clients send it from the userinfo of their proxy URL: Go's
  ``net/http`` Transport (the agents), Python's urllib (Ansible's modules) and apt all do.
"""

import argparse
import base64
import binascii
import datetime
import ipaddress
import os
import select
import signal
import socket
import socketserver
import sys
import threading

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "upgrade",
}
MAX_HEAD = 65536


class ProxyError(Exception):
    def __init__(self, status, reason, detail):
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail


def read_head(rfile):
    lines = []
    size = 0
    while True:
        line = rfile.readline(MAX_HEAD)
        if not line:
            return None if not lines else lines
        size += len(line)
        if size > MAX_HEAD:
            raise ProxyError(431, "Request Header Fields Too Large", "header too large")
        if line in (b"\r\n", b"\n"):
            if not lines:
                continue  # tolerate stray CRLF between requests
            return lines
        lines.append(line.decode("iso-8859-1").rstrip("\r\n"))


def parse_headers(lines):
    headers = []
    for line in lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers.append((name.strip(), value.strip()))
    return headers


def header(headers, name):
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def copy_exact(src, dst, length):
    while length > 0:
        chunk = src.read(min(65536, length))
        if not chunk:
            raise ProxyError(502, "Bad Gateway", "connection closed mid-body")
        dst.write(chunk)
        length -= len(chunk)


def copy_chunked(src, dst):
    while True:
        line = src.readline(MAX_HEAD)
        if not line:
            raise ProxyError(502, "Bad Gateway", "connection closed mid-chunk")
        dst.write(line)
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while True:
                trailer = src.readline(MAX_HEAD)
                dst.write(trailer)
                if trailer in (b"\r\n", b"\n", b""):
                    return
        copy_exact(src, dst, size + 2)


def copy_until_eof(src, dst):
    while True:
        chunk = src.read1(65536) if hasattr(src, "read1") else src.read(65536)
        if not chunk:
            return
        dst.write(chunk)


class Config:
    def __init__(self, routes, allow_hosts, allow_clients, log_path, credentials=None):
        self.routes = routes  # {(name, port): (ip, port)}
        self.credentials = credentials  # "user:password" or None
        self.allow_hosts = set(h.lower() for h in allow_hosts)
        self.allow_clients = [ipaddress.ip_network(n, strict=False) for n in allow_clients]
        self.log_path = log_path
        self.lock = threading.Lock()

    def log(self, message):
        line = "%s %s\n" % (datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"), message)
        with self.lock:
            with open(self.log_path, "a", encoding="utf-8") as handle:
                handle.write(line)

    def upstream(self, host, port):
        """Where to connect for ``host:port``, or raise 403."""
        host = host.lower().strip("[]")
        if (host, port) in self.routes:
            return self.routes[(host, port)]
        if host in self.allow_hosts and port in (80, 443):
            return (host, port)
        raise ProxyError(403, "Forbidden", "%s:%d is not on this site's proxy allowlist" % (host, port))

    def authorize(self, headers):
        """Raise 407 unless the request carries this proxy's Basic credentials (when it has any)."""
        if not self.credentials:
            return
        scheme, _sep, value = (header(headers, "proxy-authorization") or "").partition(" ")
        try:
            given = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            given = None
        if scheme.lower() != "basic" or given != self.credentials:
            raise ProxyError(407, "Proxy Authentication Required", "missing or wrong proxy credentials")


class Handler(socketserver.StreamRequestHandler):
    config = None  # set by serve()
    rbufsize = 0  # unbuffered client reads: nothing can hide in a buffer when a CONNECT tunnel starts

    def handle(self):
        client = self.client_address[0]
        if not any(ipaddress.ip_address(client) in net for net in self.config.allow_clients):
            self.config.log("%s refused: client not allowed" % client)
            return
        try:
            while self.one_request(client):
                pass
        except (OSError, ValueError) as exc:
            self.config.log("%s connection error: %s" % (client, exc))

    def reply_error(self, exc, client, request_line):
        body = ("%d %s: %s\n" % (exc.status, exc.reason, exc.detail)).encode()
        challenge = 'Proxy-Authenticate: Basic realm="site proxy"\r\n' if exc.status == 407 else ""
        head = "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%sConnection: close\r\n\r\n" % (
            exc.status,
            exc.reason,
            len(body),
            challenge,
        )
        self.config.log("%s %s -> %d (%s)" % (client, request_line, exc.status, exc.detail))
        try:
            self.wfile.write(head.encode() + body)
            self.wfile.flush()
        except OSError:
            pass

    def one_request(self, client):
        request_line = "-"
        try:
            lines = read_head(self.rfile)
            if not lines:
                return False
            request_line = lines[0]
            parts = request_line.split()
            if len(parts) != 3:
                raise ProxyError(400, "Bad Request", "malformed request line")
            method, target, version = parts
            headers = parse_headers(lines[1:])
            self.config.authorize(headers)
            if method == "CONNECT":
                self.tunnel(client, target)
                return False
            return self.forward(client, method, target, version, headers)
        except ProxyError as exc:
            self.reply_error(exc, client, request_line)
            return False

    def connect(self, host, port):
        address = self.config.upstream(host, port)
        try:
            return socket.create_connection(address, timeout=60)
        except OSError as exc:
            raise ProxyError(502, "Bad Gateway", "cannot reach %s:%d: %s" % (host, port, exc)) from exc

    def tunnel(self, client, target):
        host, _sep, port = target.rpartition(":")
        upstream = self.connect(host, int(port or 443))
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        self.config.log("%s CONNECT %s -> tunnel" % (client, target))
        sockets = [self.connection, upstream]
        try:
            while True:
                readable, _w, _x = select.select(sockets, [], [], 300)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()

    def forward(self, client, method, target, version, headers):
        if not target.startswith("http://"):
            raise ProxyError(400, "Bad Request", "this proxy forwards absolute http:// URIs (and CONNECT)")
        rest = target[len("http://") :]
        authority, slash, path = rest.partition("/")
        path = slash + path if slash else "/"
        host, _sep, port = (
            authority.rpartition(":") if authority.rpartition(":")[2].isdigit() else (authority, "", "80")
        )
        port = int(port)
        upstream = self.connect(host, port)
        try:
            out = ["%s %s HTTP/1.1" % (method, path)]
            out += ["%s: %s" % (k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]
            if header(headers, "host") is None:
                out.append("Host: %s" % authority)
            out.append("Connection: close")
            up_w = upstream.makefile("wb")
            up_w.write(("\r\n".join(out) + "\r\n\r\n").encode("iso-8859-1"))
            length = header(headers, "content-length")
            if header(headers, "transfer-encoding") and "chunked" in header(headers, "transfer-encoding").lower():
                copy_chunked(self.rfile, up_w)
            elif length:
                copy_exact(self.rfile, up_w, int(length))
            up_w.flush()
            up_r = upstream.makefile("rb")
            status_lines = read_head(up_r)
            while status_lines and status_lines[0].split()[1].startswith("1") and status_lines[0].split()[1] != "101":
                status_lines = read_head(up_r)  # skip interim responses
            if not status_lines:
                raise ProxyError(502, "Bad Gateway", "empty response from %s" % authority)
            status = int(status_lines[0].split()[1])
            resp_headers = parse_headers(status_lines[1:])
            te = (header(resp_headers, "transfer-encoding") or "").lower()
            resp_length = header(resp_headers, "content-length")
            no_body = method == "HEAD" or status in (204, 304)
            framed = no_body or "chunked" in te or resp_length is not None
            client_close = (
                header(headers, "connection") or header(headers, "proxy-connection") or ""
            ).lower() == "close"
            keep = framed and version == "HTTP/1.1" and not client_close
            head = [status_lines[0]] + ["%s: %s" % (k, v) for k, v in resp_headers if k.lower() not in HOP_BY_HOP]
            head.append("Connection: %s" % ("keep-alive" if keep else "close"))
            self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("iso-8859-1"))
            if not no_body:
                if "chunked" in te:
                    copy_chunked(up_r, self.wfile)
                elif resp_length is not None:
                    copy_exact(up_r, self.wfile, int(resp_length))
                else:
                    copy_until_eof(up_r, self.wfile)
            self.wfile.flush()
            self.config.log("%s %s %s -> %d" % (client, method, target, status))
            return keep
        finally:
            upstream.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(listens, config):
    Handler.config = config
    servers = []
    for listen in listens:
        host, _sep, port = listen.rpartition(":")
        server = Server((host, int(port)), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        config.log("listening on %s" % listen)
    return servers


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", action="append", required=True, help="ADDRESS:PORT (repeatable)")
    parser.add_argument("--route", action="append", default=[], help="NAME:PORT=IP:PORT (repeatable)")
    parser.add_argument("--allow-host", action="append", default=[], help="upstream host name allowed on 80/443")
    parser.add_argument("--allow-client", action="append", default=["127.0.0.0/8"], help="client network")
    parser.add_argument("--log", required=True)
    parser.add_argument("--pidfile")
    parser.add_argument("--credentials-file", help="file holding USER:PASSWORD the clients must present")
    args = parser.parse_args(argv)
    routes = {}
    for route in args.route:
        name, _eq, dest = route.partition("=")
        name_host, _c, name_port = name.rpartition(":")
        dest_host, _c, dest_port = dest.rpartition(":")
        routes[(name_host.lower(), int(name_port))] = (dest_host, int(dest_port))
    credentials = None
    if args.credentials_file:
        with open(args.credentials_file, encoding="utf-8") as handle:
            credentials = handle.read().strip()
    config = Config(routes, args.allow_host, args.allow_client, args.log, credentials)
    servers = serve(args.listen, config)
    if args.pidfile:
        with open(args.pidfile, "w", encoding="utf-8") as handle:
            handle.write("%d\n" % os.getpid())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1):
        pass
    for server in servers:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
