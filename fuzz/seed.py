#!/usr/bin/env python3
"""Seed the fuzz corpora from real captures (classic pcap files).

  python3 fuzz/seed.py [CAPTURE_DIR ...]   (default: ../shared/captures/public captures/)

Writes fuzz/corpus/{decode,engine,http}/: one file per frame for `decode` (first byte
selects the link type), up to 64 frames per capture with 2-byte length prefixes for
`engine`, and the TCP payloads of each capture cut into control-byte chunks for `http`.
"""
import hashlib, os, struct, sys

LINKTYPES = [0, 1, 101, 108, 113, 228, 229, 276, 147]
here = os.path.dirname(os.path.abspath(__file__))

def frames(path):
    with open(path, 'rb') as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return
        magic = struct.unpack('<I', hdr[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            e = '<'
        elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
            e = '>'
        else:
            return  # pcapng: skipped
        lt = struct.unpack(e + 'I', hdr[20:24])[0] & 0xffff
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                return
            incl = struct.unpack(e + 'I', rh[8:12])[0]
            if incl > 262144:
                return
            data = f.read(incl)
            if len(data) < incl:
                return
            yield lt, data

def tcp_payload(data):
    # Ethernet + IPv4 only: enough to seed HTTP bytes.
    if len(data) < 54 or data[12:14] != b'\x08\x00':
        return None
    ihl = (data[14] & 15) * 4
    if data[23] != 6:
        return None
    t = 14 + ihl
    if len(data) < t + 20:
        return None
    off = (data[t + 12] >> 4) * 4
    return data[t + off:]

def save(kind, blob):
    d = os.path.join(here, 'corpus', kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(blob).hexdigest()), 'wb') as f:
        f.write(blob)

dirs = sys.argv[1:] or [os.path.join(here, '..', '..', 'shared', 'captures', 'public'),
                        os.path.join(here, '..', 'captures')]
for d in dirs:
    if not os.path.isdir(d):
        continue
    for name in sorted(os.listdir(d)):
        if not name.endswith('.pcap'):
            continue
        seq = b''
        http = b''
        for i, (lt, data) in enumerate(frames(os.path.join(d, name))):
            sel = LINKTYPES.index(lt) if lt in LINKTYPES else 8
            if i < 200:
                save('decode', bytes([sel]) + data[:2048])
            if i < 64 and lt == 1:
                seq += struct.pack('<H', len(data)) + bytes([1]) + data
            p = tcp_payload(data) if lt == 1 else None
            if p and len(http) < 16384:
                for j in range(0, len(p), 31):
                    chunk = p[j:j + 31]
                    http += bytes([(len(chunk) << 3) | (i & 1)]) + chunk
        if seq:
            save('engine', seq)
        if http:
            save('http', http)
print('seeded', {k: len(os.listdir(os.path.join(here, 'corpus', k)))
                 for k in ('decode', 'engine', 'http')
                 if os.path.isdir(os.path.join(here, 'corpus', k))})
