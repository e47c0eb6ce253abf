#!/usr/bin/python3
"""An independent AMQP 1.0 peer (Qpid Proton, Debian's python3-qpid-proton) for the interop test.

  interop_peer.py send URL ADDRESS      sends the fixed set of messages below, durable
  interop_peer.py receive URL ADDRESS N receives N messages, accepts them, prints one JSON line
                                        each (ids, subject, content type, body as base64, and
                                        which body section carried it)

Run with /usr/bin/python3: the pyenv python3 on PATH does not see Debian's module.
"""
import base64, json, sys, uuid
from proton import Message, symbol
from proton.utils import BlockingConnection

UUID_ID = uuid.UUID("6f9619ff-8b86-d011-b42d-00cf4fc964ff")

def messages():
    # (label, Message). `inferred=True` makes a bytes body a Data section; without it, proton
    # sends an amqp-value(binary).
    return [
        ("data", Message(body=b'{"kind":"data"}', inferred=True, id="py-data", subject="CARD_REQUEST",
                         correlation_id="py-corr", content_type=symbol("application/json"), durable=True)),
        ("value-binary", Message(body=b'{"kind":"binary"}', id="py-bin", subject="CARD_REQUEST", durable=True)),
        ("value-string", Message(body='{"kind":"string","name":"Zoë"}', id=UUID_ID, subject="CARD_REQUEST", durable=True)),
        ("no-id", Message(body=b'{"kind":"no-id"}', inferred=True, subject="CARD_REQUEST", durable=True)),
        ("no-subject", Message(body=b'{"kind":"no-subject"}', inferred=True, id=12345, durable=True)),
        ("garbage", Message(body=b"\xff\xfe\x00\x01garbage\x80", inferred=True, id="py-garbage", subject="CARD_REQUEST", durable=True)),
        ("value-int", Message(body=42, id="py-int", subject="CARD_REQUEST", durable=True)),
    ]

def main():
    mode, url, address = sys.argv[1], sys.argv[2], sys.argv[3]
    conn = BlockingConnection(url, allowed_mechs="PLAIN ANONYMOUS", timeout=20)
    try:
        if mode == "send":
            snd = conn.create_sender(address)
            for _, m in messages():
                snd.send(m)  # blocks until settled (accepted)
            print(len(messages()))
        elif mode == "receive":
            n = int(sys.argv[4])
            rcv = conn.create_receiver(address, credit=n)
            for _ in range(n):
                m = rcv.receive(timeout=20)
                body = m.body
                if isinstance(body, str):
                    section, raw = "value-string", body.encode()
                elif isinstance(body, (bytes, memoryview)):
                    section, raw = ("data" if m.inferred else "value-binary"), bytes(body)
                else:
                    section, raw = "other", repr(body).encode()
                print(json.dumps({
                    "id": None if m.id is None else str(m.id),
                    "correlation_id": None if m.correlation_id is None else str(m.correlation_id),
                    "subject": m.subject,
                    "content_type": None if m.content_type is None else str(m.content_type),
                    "durable": bool(m.durable),
                    "section": section,
                    "body": base64.b64encode(raw).decode(),
                }), flush=True)
                rcv.accept()
        else:
            sys.exit("mode must be send or receive")
    finally:
        conn.close()

if __name__ == "__main__":
    main()
