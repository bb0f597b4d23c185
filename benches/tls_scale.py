#!/usr/bin/env python3
"""Scale a recorded TLS capture up for the TLS benchmark: N copies of every connection,
each copy's client port moved by its copy number and its times shifted so the copies
overlap (a copy starts every --spacing seconds), written as one classic pcap in time
order. The key log of the original decrypts every copy (TLS keys are found by the
ClientHello's random, which the copies keep), so tcpscope and tshark decrypt all of them.

Usage: tls_scale.py IN.pcap OUT.pcap --copies N [--spacing SECS]
Only classic little-endian pcap with Ethernet/IPv4/TCP frames is handled (what
captures/record-tls.sh writes); other frames are copied unchanged.
"""

import argparse
import heapq
import struct


def read_pcap(path):
    with open(path, "rb") as f:
        head = f.read(24)
        magic = struct.unpack("<I", head[:4])[0]
        if magic not in (0xA1B2C3D4, 0xA1B23C4D):
            raise SystemExit(f"{path}: not a little-endian classic pcap")
        nano = magic == 0xA1B23C4D
        frames = []
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            sec, frac, incl, orig = struct.unpack("<IIII", rec)
            data = f.read(incl)
            ns = sec * 1_000_000_000 + (frac if nano else frac * 1000)
            frames.append((ns, orig, data))
        return head, nano, frames


def client_port(frames):
    """The source port of the first SYN without ACK."""
    for _, _, d in frames:
        if len(d) < 34 or d[12:14] != b"\x08\x00" or d[23] != 6:
            continue
        ihl = (d[14] & 0x0F) * 4
        t = 14 + ihl
        if len(d) >= t + 14 and d[t + 13] & 0x12 == 0x02:
            return struct.unpack(">H", d[t : t + 2])[0]
    raise SystemExit("no SYN found")


def moved(d, cport, k):
    """Frame `d` with the client port `cport` replaced by `cport + k` (either end)."""
    if len(d) < 34 or d[12:14] != b"\x08\x00" or d[23] != 6:
        return d
    t = 14 + (d[14] & 0x0F) * 4
    if len(d) < t + 4:
        return d
    b = bytearray(d)
    sp, dp = struct.unpack(">HH", b[t : t + 4])
    new = (cport + k) % 65536
    if sp == cport:
        b[t : t + 2] = struct.pack(">H", new)
    if dp == cport:
        b[t + 2 : t + 4] = struct.pack(">H", new)
    return bytes(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--copies", type=int, required=True)
    ap.add_argument("--spacing", type=float, default=0.002)
    a = ap.parse_args()
    head, nano, frames = read_pcap(a.inp)
    cport = client_port(frames)
    step = int(a.spacing * 1e9)

    def copy(k):
        return ((ns + k * step, k, i, orig, d) for i, (ns, orig, d) in enumerate(frames))

    streams = [copy(k) for k in range(a.copies)]
    with open(a.out, "wb") as f:
        f.write(head)
        for ns, k, _, orig, d in heapq.merge(*streams):
            d = moved(d, cport, k)
            sec, sub = divmod(ns, 1_000_000_000)
            frac = sub if nano else sub // 1000
            f.write(struct.pack("<IIII", sec, frac, len(d), orig))
            f.write(d)


if __name__ == "__main__":
    main()
