#!/usr/bin/python3
"""AMQP over WebSockets in front of the test RabbitMQ, whose 3.10 AMQP 1.0 plugin has no WebSocket
listener. Stands where Service Bus's `wss://<ns>/$servicebus/websocket` stands, so the client's
real WebSocket code runs against a real peer.

  ws-relay.py LISTEN_PORT AMQP_PORT [PATH [CERT KEY]]   (PATH default: /$servicebus/websocket)

With CERT and KEY (PEM files) it serves wss (TLS), as Service Bus does on 443.

Like the OASIS AMQP WebSocket binding requires: the upgrade is accepted only on PATH and only when
the client offers the subprotocol `amqp` (anything else: HTTP 404 / 400, no upgrade); each
WebSocket connection gets its own TCP connection to 127.0.0.1:AMQP_PORT; binary messages are
passed on as bytes, both ways. A text message is a protocol error (close 1003).

Run with /usr/bin/python3 (Debian's python3-websockets 10.x; the pyenv python3 does not see it).
Listens on 127.0.0.1 only. Prints "ready" on stdout once it listens.
"""
import asyncio
import logging
import ssl
import sys
from http import HTTPStatus

import websockets
from websockets.exceptions import ConnectionClosed

SUBPROTOCOL = "amqp"


def main():
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    listen_port, amqp_port = int(sys.argv[1]), int(sys.argv[2])
    path = sys.argv[3] if len(sys.argv) > 3 else "/$servicebus/websocket"
    tls = None
    if len(sys.argv) > 5:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(sys.argv[4], sys.argv[5])

    async def check_request(request_path, headers):
        # Refuse before the upgrade, with a plain HTTP status the client can name.
        if request_path.split("?", 1)[0] != path:
            return HTTPStatus.NOT_FOUND, [("Content-Type", "text/plain")], b"no WebSocket endpoint here\n"
        offered = [p.strip() for h in headers.get_all("Sec-WebSocket-Protocol") for p in h.split(",")]
        if SUBPROTOCOL not in offered:
            return HTTPStatus.BAD_REQUEST, [("Content-Type", "text/plain")], b"subprotocol amqp required\n"
        return None

    async def relay(ws, *_):
        if ws.subprotocol != SUBPROTOCOL:  # check_request already refused it; belt and braces
            await ws.close(1002, "subprotocol amqp required")
            return
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", amqp_port)
        except OSError as e:
            await ws.close(1011, f"broker unreachable: {e}")
            return

        async def ws_to_tcp():
            try:
                async for msg in ws:
                    if isinstance(msg, str):
                        await ws.close(1003, "AMQP frames travel in binary messages")
                        return
                    writer.write(msg)
                    await writer.drain()
            except ConnectionClosed:
                pass
            finally:
                writer.close()

        async def tcp_to_ws():
            try:
                while True:
                    data = await reader.read(65536)
                    if not data:
                        break
                    await ws.send(data)  # bytes -> binary message
            except (ConnectionClosed, OSError):
                pass
            finally:
                await ws.close()

        await asyncio.gather(ws_to_tcp(), tcp_to_ws())

    async def serve():
        async with websockets.serve(
            relay, "127.0.0.1", listen_port,
            subprotocols=[SUBPROTOCOL],
            process_request=check_request,
            # AMQP has its own heartbeat (idle-time-out); frames up to the negotiated size.
            ping_interval=None, compression=None, max_size=64 * 1024 * 1024,
            ssl=tls,
        ):
            print("ready", flush=True)
            await asyncio.Future()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
