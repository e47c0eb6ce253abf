#!/usr/bin/env python3
"""A webhook / event receiver for the tests: stdlib only (http.server + hmac).

Checks X-Nexus-Signature with Python's own hmac (an implementation independent of Cardbench's),
logs every request as one JSON line, and answers with a script of status codes.

  receiver.py --port-file F --log L [--secret-file S] [--script 500,503,204] [--default 204]
              [--hold-at N --hold-seconds T]

- --port 0 (the default) takes a free port; its number is written to --port-file once listening.
- --script: the statuses of the first requests, in order; then --default.
- Bodies: 429 says "Event already processed", 400 names a field; others are empty.
- --hold-at N: request N (1-based) is held T seconds before its answer (a test kills the sender
  meanwhile). A held request whose client went away is logged as "dropped", not answered.
Each log line: {"n", "kind": "answered"|"dropped"|"holding", "path", "status", "eventId",
"topic", "signature", "signatureOk" (null without --secret-file), "authUser", "body"}.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODIES = {
    429: b'{"message":"Event already processed"}',
    400: b'{"message":"user.email: must be a well-formed email address"}',
}


def signature_ok(secret, body, header):
    if secret is None:
        return None
    if not header or not header.upper().startswith("HMAC-SHA256="):
        return False
    given = header[len("HMAC-SHA256="):].strip()
    expected = hmac.new(secret, body, hashlib.sha256).digest()
    try:
        if len(given) == 64:
            got = binascii.unhexlify(given)
        else:
            got = base64.b64decode(given, validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(expected, got)


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.count = 0
        self.script = [int(s) for s in args.script.split(",") if s.strip()] if args.script else []
        self.log = open(args.log, "a", encoding="utf-8")

    def secret(self):
        """The secret file's text, read at each request (a test writes it once the webhook is
        added, after the receiver started); None without --secret-file."""
        if not self.args.secret_file:
            return None
        try:
            with open(self.args.secret_file, "rb") as f:
                return f.read().rstrip(b"\r\n")
        except OSError:
            return b""

    def next(self):
        with self.lock:
            self.count += 1
            n = self.count
            status = self.script[n - 1] if n <= len(self.script) else self.args.default
            return n, status

    def write(self, record):
        with self.lock:
            self.log.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.log.flush()


def client_gone(sock):
    """True when the peer closed its end (readable with nothing to read)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        n, status = state.next()
        user = None
        auth = self.headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            try:
                user = base64.b64decode(auth[6:]).decode("utf-8").split(":", 1)[0]
            except (binascii.Error, UnicodeDecodeError):
                user = "?"
        sig = self.headers.get("X-Nexus-Signature")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        record = {
            "n": n,
            "path": self.path,
            "status": status,
            "eventId": self.headers.get("X-Nexus-Event-Id"),
            "topic": self.headers.get("X-Nexus-Topic"),
            "signature": sig,
            "signatureOk": signature_ok(state.secret(), body, sig),
            "authUser": user,
            "contentType": self.headers.get("Content-Type"),
            "body": text,
        }
        if state.args.hold_at and n == state.args.hold_at:
            state.write(dict(record, kind="holding"))
            time.sleep(state.args.hold_seconds)
            if client_gone(self.connection):
                state.write(dict(record, kind="dropped"))
                self.close_connection = True
                return
        answer = BODIES.get(status, b"")
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        if answer:
            self.send_header("Content-Type", "application/json")
        self.end_headers()
        if answer:
            self.wfile.write(answer)
        self.wfile.flush()
        state.write(dict(record, kind="answered"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--log", required=True)
    p.add_argument("--secret-file")
    p.add_argument("--script", default="")
    p.add_argument("--default", type=int, default=204)
    p.add_argument("--hold-at", type=int, default=0)
    p.add_argument("--hold-seconds", type=float, default=2.0)
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(server.server_address[1]))
        os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
