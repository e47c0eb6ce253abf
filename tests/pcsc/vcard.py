#!/usr/bin/env python3
"""A virtual contactless card for the PC/SC tests, on vpcd's socket protocol.

vpcd (the virtual reader driver inside pcscd) listens on a TCP port; a card is "on the reader"
while a client is connected to it. This script is that client, driven by the tests through a
Unix socket so they can insert and remove cards at will:

    insert UIDHEX [normal|pull|nouid]   put a card on the reader (waits until vpcd took it)
    remove                              take it off
    quit                                stop this script

Modes: normal answers GET DATA (FF CA 00 00 00) with the UID and 90 00; `pull` drops the
connection when GET DATA arrives (a card pulled off mid-read); `nouid` answers 6A 81.

vpcd framing: 2-byte big-endian length, then the bytes. A 1-byte message is a control code
(0 off, 1 on, 2 reset, 4 ask for the ATR); anything longer is a command APDU.
"""
import argparse
import os
import socket
import struct
import sys
import threading

# PC/SC part 3 ATR of a MIFARE Classic 1K seen through a contactless reader.
ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
GET_DATA_UID = bytes.fromhex("FFCA000000")


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("vpcd closed the connection")
        data += chunk
    return data


def send_frame(sock, payload):
    sock.sendall(struct.pack(">H", len(payload)) + payload)


class Card:
    def __init__(self, port, uid, mode):
        self.uid = uid
        self.mode = mode
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.settimeout(None)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            while True:
                (length,) = struct.unpack(">H", recv_exact(self.sock, 2))
                msg = recv_exact(self.sock, length)
                if length == 1:
                    if msg[0] == 4:
                        send_frame(self.sock, ATR)
                    continue  # power on/off/reset: no answer
                if msg[:4] == GET_DATA_UID[:4]:
                    if self.mode == "pull":
                        self.close()
                        return
                    if self.mode == "nouid":
                        send_frame(self.sock, bytes.fromhex("6A81"))
                        continue
                    send_frame(self.sock, self.uid + bytes.fromhex("9000"))
                    continue
                send_frame(self.sock, bytes.fromhex("6D00"))  # instruction not supported
        except (ConnectionError, OSError):
            return

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True, help="vpcd's port for the reader slot")
    parser.add_argument("--control", required=True, help="Unix socket path the tests talk to")
    args = parser.parse_args()

    if os.path.exists(args.control):
        os.unlink(args.control)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(args.control)
    server.listen(4)
    card = None
    while True:
        conn, _ = server.accept()
        with conn:
            line = conn.makefile("r").readline().strip()
            words = line.split()
            try:
                if words and words[0] == "insert" and len(words) >= 2:
                    if card is not None:
                        card.close()
                    card = Card(args.port, bytes.fromhex(words[1]), words[2] if len(words) > 2 else "normal")
                    conn.sendall(b"ok\n")
                elif words == ["remove"]:
                    if card is not None:
                        card.close()
                        card = None
                    conn.sendall(b"ok\n")
                elif words == ["quit"]:
                    conn.sendall(b"ok\n")
                    break
                else:
                    conn.sendall(b"error unknown command\n")
            except (OSError, ValueError) as e:
                conn.sendall(f"error {e}\n".encode())
    if card is not None:
        card.close()
    server.close()
    os.unlink(args.control)


if __name__ == "__main__":
    sys.exit(main())
