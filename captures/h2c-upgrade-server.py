"""A one-connection h2c Upgrade server for record-http2.sh: nghttpd and nginx do not
offer Upgrade: h2c. Answers 101, then stream 1 (the upgraded request) in HTTP/2 with
the file named by the request path, split in DATA frames of 16 KiB, then GOAWAY."""
import socket
import struct
import sys

doc, port = sys.argv[1], int(sys.argv[2])


def frame(t, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([t, flags]) + struct.pack(">I", sid) + payload


def lit(name, value):  # literal without indexing, new name, no Huffman
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(1)
c, _ = s.accept()
req = b""
while b"\r\n\r\n" not in req:
    req += c.recv(4096)
path = req.split(b" ")[1].decode().lstrip("/")
body = open(doc + "/" + path, "rb").read()
c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
c.sendall(frame(4, 0, 0, b""))
got = b""
while len(got) < 24 + 9:
    got += c.recv(4096)
c.sendall(frame(4, 1, 0, b""))
hdr = b"\x88" + lit(b"content-length", str(len(body)).encode()) + lit(b"content-type", b"text/plain")
c.sendall(frame(1, 4, 1, hdr))
for i in range(0, len(body), 16384):
    last = i + 16384 >= len(body)
    c.sendall(frame(0, 1 if last else 0, 1, body[i:i + 16384]))
c.sendall(frame(7, 0, 0, struct.pack(">II", 1, 0)))
c.settimeout(2)
try:
    while c.recv(4096):
        pass
except OSError:
    pass
c.close()
