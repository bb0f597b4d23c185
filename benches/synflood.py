#!/usr/bin/env python3
"""Write a pcap of N lone SYNs (default 10^6), each from its own client address and port
to one server: the SYN-flood capture of docs/memory.md (about 70 MB for 10^6; not
committed, remade with this script).
Usage: python3 benches/synflood.py OUT.pcap [N]"""
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn(i):
    src = bytes([10, 2 + (i >> 24), (i >> 16) & 255, (i >> 8) & 255])
    dst = bytes([10, 1, 0, 1])
    sport = 1024 + (i & 255)
    isn = (i * 2654435761) & 0xFFFFFFFF
    tcp = struct.pack("!HHIIBBHHH", sport, 80, isn, 0, 5 << 4, 0x02, 65535, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xFFFF, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    return eth + ip + tcp


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            frame = syn(i)
            t_us = i * 3  # one SYN every 3 µs
            f.write(struct.pack("<IIII", t_us // 1_000_000, t_us % 1_000_000, len(frame), len(frame)))
            f.write(frame)


if __name__ == "__main__":
    main()
