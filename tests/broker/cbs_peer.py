#!/usr/bin/python3
"""A small AMQP 1.0 peer standing in for Azure Service Bus's claims-based security (CBS), which
RabbitMQ does not have. Qpid Proton (Debian's python3-qpid-proton); run with /usr/bin/python3.

  CBS_PEER_KEY=KEY cbs_peer.py --rule RULE --log FILE [--host HOST] QUEUE...

(The key comes from the environment, not the command line, which any process can read.)

Listens on 127.0.0.1 (a free port; prints "ready PORT" on stdout when listening), accepts SASL
ANONYMOUS and serves:

- `$cbs`: a put-token request (application properties operation=put-token,
  type=servicebus.windows.net:sastoken, name=<audience>; amqp-value string body
  `SharedAccessSignature sr=..&sig=..&se=..&skn=..`) is checked the way Service Bus documents it:
  sr = the audience, skn = RULE, se in the future, sig = base64(HMAC-SHA256(KEY,
  urlenc(sr) + "\\n" + se)). The reply (to the request's reply-to, correlation-id = its message-id)
  carries status-code 200, or 401 / 400 with a status-description.
- each QUEUE, as an in-memory peek-lock queue: a link to or from it is attached only on a
  connection that put a valid token for `sb://HOST/QUEUE`; when that token expires and no newer
  one was put, the peer detaches the link with amqp:unauthorized-access (as Service Bus does).
  Each message gets the annotation x-opt-sequence-number (1, 2, ... per peer) when it arrives.
- `QUEUE/$management`: Service Bus's entity management node, with the one operation Cardbench
  uses: `com.microsoft:peek-message` (amqp-value map body from-sequence-number, message-count).
  The answer (statusCode 200, body map `messages` → list of maps with the AMQP-encoded `message`
  as binary; 204 when none) lists the queue's waiting messages without taking or locking them.
  Served only on a connection holding a token for QUEUE (a token covers the paths under it).

Every event the test asserts on is appended to FILE as one JSON line (time, event, audience,
expiry, status, connection number). The token itself is never written.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import socket
import sys
import time
import urllib.parse
from collections import deque

from proton import Condition, Message, Terminus, int32, symbol
from proton.handlers import MessagingHandler
from proton.reactor import Container

TOKEN_TYPE = "servicebus.windows.net:sastoken"
MANAGEMENT = "/$management"
PEEK = "com.microsoft:peek-message"


def expected_signature(key, sr, se):
    to_sign = f"{urllib.parse.quote(sr, safe='')}\n{se}".encode()
    return base64.b64encode(hmac.new(key.encode(), to_sign, hashlib.sha256).digest()).decode()


def check_token(token, audience, rule, key, now):
    """(status, description, expiry)"""
    prefix = "SharedAccessSignature "
    if not isinstance(token, str) or not token.startswith(prefix):
        return 400, "body is not a SharedAccessSignature string", None
    fields = dict(urllib.parse.parse_qsl(token[len(prefix):], keep_blank_values=True))
    sr, sig, se, skn = (fields.get(k) for k in ("sr", "sig", "se", "skn"))
    if None in (sr, sig, se, skn):
        return 400, "token lacks one of sr, sig, se, skn", None
    try:
        expiry = int(se)
    except ValueError:
        return 400, "se is not a number", None
    if sr != audience:
        return 401, f"token is for {sr}, not {audience}", expiry
    if skn != rule:
        return 401, f"unknown SAS rule {skn}", expiry
    if not hmac.compare_digest(sig, expected_signature(key, sr, se)):
        return 401, "InvalidSignature: the token signature is invalid", expiry
    if expiry <= now:
        return 401, "ExpiredToken: the token has expired", expiry
    return 200, "OK", expiry


class Peer(MessagingHandler):
    def __init__(self, args, port):
        super().__init__(auto_accept=False, auto_settle=True)
        self.args, self.port = args, port
        self.queues = {q: deque() for q in args.queues}
        self.log_file = open(args.log, "a", buffering=1)
        self.conn_ids = {}       # connection -> number
        self.tokens = {}         # (connection, audience) -> expiry
        self.reply_links = {}    # (connection, reply-to address) -> sender link
        self.queue_links = []    # (link, queue) attached to a queue
        self.in_flight = {}      # delivery -> (queue, message)
        self.sequence = 0        # last x-opt-sequence-number given

    def log(self, **fields):
        self.log_file.write(json.dumps({"t": time.time(), **fields}) + "\n")

    def cid(self, conn):
        return self.conn_ids.setdefault(conn, len(self.conn_ids) + 1)

    def audience(self, queue):
        return f"sb://{self.args.host}/{queue}"

    def on_start(self, event):
        event.container.listen(f"127.0.0.1:{self.port}")
        print(f"ready {self.port}", flush=True)
        event.container.schedule(0.2, self)

    def on_connection_bound(self, event):
        sasl = event.transport.sasl()
        sasl.allowed_mechs("ANONYMOUS")

    def on_connection_opened(self, event):
        self.log(event="connection-opened", conn=self.cid(event.connection))

    def on_link_opening(self, event):
        link, conn = event.link, event.connection
        if link.is_sender:
            address = link.remote_source.address
            link.source.address = address
            link.target.address = link.remote_target.address
        else:
            address = link.remote_target.address
            link.target.address = address
            link.source.address = link.remote_source.address
        if address == "$cbs":
            if link.is_sender:
                self.reply_links[(conn, link.remote_target.address)] = link
            link.open()
            if link.is_receiver:
                link.flow(10)
            return
        node = address[: -len(MANAGEMENT)] if address and address.endswith(MANAGEMENT) else None
        entity = node if node is not None else address
        if entity not in self.queues:
            self.refuse(link, "amqp:not-found", f"The messaging entity '{address}' could not be found.")
            return
        audience = self.audience(entity)
        if self.tokens.get((conn, audience), 0) <= time.time():
            self.log(event="link-refused", conn=self.cid(conn), audience=audience)
            self.refuse(link, "amqp:unauthorized-access", f"Unauthorized access: no valid token for {audience} on this connection (put-token first)")
            return
        link.open()
        if node is not None:
            # The management node: requests come in on our receiving end, answers go out on the
            # sending end whose target is the requester's reply-to address.
            self.log(event="management-attached", conn=self.cid(conn), audience=audience, role="sender" if link.is_sender else "receiver")
            if link.is_sender:
                self.reply_links[(conn, link.remote_target.address)] = link
            else:
                link.flow(10)
            return
        self.queue_links.append((link, address))
        self.log(event="link-attached", conn=self.cid(conn), audience=audience, role="sender" if link.is_sender else "receiver")
        if link.is_receiver:
            link.flow(100)

    def refuse(self, link, condition, description):
        # As the spec says a refusing peer does: attach with a null terminus on its side (source
        # when we would send, target when we would receive), then detach with the error. A
        # normal attach followed by a detach would look like a link that opened and then broke.
        if link.is_sender:
            link.source.type = Terminus.UNSPECIFIED
        else:
            link.target.type = Terminus.UNSPECIFIED
        link.open()
        link.condition = Condition(condition, description)
        link.close()

    def on_message(self, event):
        link, conn, msg = event.link, event.connection, event.message
        if link.target.address == "$cbs":
            self.put_token(event, conn, msg)
            self.accept(event.delivery)
            link.flow(1)
            return
        queue = link.target.address
        if queue.endswith(MANAGEMENT):
            self.management(conn, queue[: -len(MANAGEMENT)], msg)
            self.accept(event.delivery)
            link.flow(1)
            return
        self.sequence += 1
        annotations = dict(msg.annotations or {})
        annotations[symbol("x-opt-sequence-number")] = self.sequence
        msg.annotations = annotations
        self.queues[queue].append(msg)
        self.accept(event.delivery)
        link.flow(1)
        self.pump()

    def put_token(self, event, conn, msg):
        props = msg.properties or {}
        audience = props.get("name")
        now = time.time()
        if props.get("operation") != "put-token" or props.get("type") != TOKEN_TYPE or not isinstance(audience, str):
            status, desc, expiry = 400, "expected operation=put-token, type=" + TOKEN_TYPE + ", name=<audience>", None
        else:
            status, desc, expiry = check_token(msg.body, audience, self.args.rule, self.args.key, now)
        if status == 200:
            self.tokens[(conn, audience)] = max(expiry, self.tokens.get((conn, audience), 0))
        self.log(event="put-token", conn=self.cid(conn), audience=audience, expiry=expiry, status=status, description=desc)
        reply = Message(correlation_id=msg.id, address=msg.reply_to,
                        properties={"status-code": status, "status-description": desc})
        sender = self.reply_links.get((conn, msg.reply_to))
        if sender is None:
            self.log(event="no-reply-link", conn=self.cid(conn), reply_to=msg.reply_to)
            return
        sender.send(reply)

    def management(self, conn, queue, msg):
        props = msg.properties or {}
        body = msg.body if isinstance(msg.body, dict) else {}
        if props.get("operation") != PEEK:
            status, answer = 501, None
        else:
            start = int(body.get("from-sequence-number", 0))
            count = int(body.get("message-count", 1))
            # Waiting messages only, left in place: a peek neither takes nor locks.
            found = [m for m in self.queues[queue] if m.annotations.get(symbol("x-opt-sequence-number"), 0) >= start][:count]
            status = 200 if found else 204
            answer = {"messages": [{"message": m.encode()} for m in found]} if found else None
        self.log(event="management", conn=self.cid(conn), audience=self.audience(queue), operation=props.get("operation"), status=status,
                 count=len(answer["messages"]) if answer else 0)
        reply = Message(correlation_id=msg.id, address=msg.reply_to, properties={"statusCode": int32(status)}, body=answer)
        sender = self.reply_links.get((conn, msg.reply_to))
        if sender is None:
            self.log(event="no-reply-link", conn=self.cid(conn), reply_to=msg.reply_to)
            return
        sender.send(reply)

    def on_sendable(self, event):
        self.pump()

    def pump(self):
        for link, queue in self.queue_links:
            q = self.queues[queue]
            while link.is_sender and link.credit > 0 and q and link.state & link.LOCAL_ACTIVE:
                m = q.popleft()
                d = link.send(m)
                self.in_flight[d] = (queue, m)

    def settle_back(self, delivery, requeue):
        entry = self.in_flight.pop(delivery, None)
        if entry and requeue:
            self.queues[entry[0]].appendleft(entry[1])
            self.pump()

    def on_accepted(self, event):
        self.settle_back(event.delivery, False)

    def on_rejected(self, event):
        self.settle_back(event.delivery, False)

    def on_released(self, event):
        self.settle_back(event.delivery, True)

    def on_modified(self, event):
        self.settle_back(event.delivery, True)

    def drop_link(self, link):
        self.queue_links = [(l, q) for (l, q) in self.queue_links if l is not link]
        for d, entry in list(self.in_flight.items()):
            if d.link is link:
                self.settle_back(d, True)

    def on_link_remote_detach(self, event):
        # Our client detaches (closed=false) rather than closes; answer in kind at once, as
        # Service Bus does, so its close does not wait for a timeout.
        self.drop_link(event.link)
        event.link.detach()

    def on_link_closed(self, event):
        self.drop_link(event.link)

    def on_link_closing(self, event):
        self.drop_link(event.link)

    def on_connection_closing(self, event):
        self.forget(event.connection)

    def on_disconnected(self, event):
        if event.connection is not None:
            self.forget(event.connection)

    def forget(self, conn):
        for link, _ in [(l, q) for (l, q) in self.queue_links if l.connection is conn]:
            self.drop_link(link)
        for key in [k for k in self.tokens if k[0] is conn]:
            del self.tokens[key]
        for key in [k for k in self.reply_links if k[0] is conn]:
            del self.reply_links[key]

    def on_timer_task(self, event):
        # Service Bus detaches links whose token ran out: do the same, so a client that does not
        # renew in time loses its links.
        now = time.time()
        for link, queue in list(self.queue_links):
            audience = self.audience(queue)
            if self.tokens.get((link.connection, audience), 0) <= now:
                self.log(event="link-expired", conn=self.cid(link.connection), audience=audience)
                link.condition = Condition("amqp:unauthorized-access", f"The token for {audience} has expired")
                link.close()
                self.drop_link(link)
        event.container.schedule(0.2, self)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rule", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("queues", nargs="+")
    args = ap.parse_args()
    args.key = os.environ.get("CBS_PEER_KEY", "")
    if not args.key:
        ap.error("CBS_PEER_KEY is not set")
    # A port free right now; the tiny race with another process is acceptable in tests.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    Container(Peer(args, port)).run()


if __name__ == "__main__":
    sys.exit(main())
