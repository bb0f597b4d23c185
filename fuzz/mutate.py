#!/usr/bin/env python3
"""The mutation loop of fuzz/run.sh (see there): MINUTES BIN OUT SEED..."""
import os, random, shutil, struct, subprocess, sys, time, resource

minutes, binary, out = float(sys.argv[1]), sys.argv[2], sys.argv[3]
seeds = [open(p, 'rb').read() for p in sys.argv[4:]]
timeout = float(os.environ.get('FUZZ_TIMEOUT', '10'))
mem_kb = int(os.environ.get('FUZZ_MEM_KB', str(2 << 20)))
rng = random.Random(int(os.environ.get('FUZZ_SEED', str(int(time.time())))))
work = os.path.join(out, 'work')
os.makedirs(work, exist_ok=True)

COMMANDS = [
    ['report', '{f}'],
    ['report', '{f}', '--format', 'json', '--packets'],
    ['report', '{f}', '--format', 'ndjson'],
    ['explain', '{f}'],
    ['diagram', '{f}'],
    ['diagram', '{f}', '--format', 'ascii'],
    ['diagram', '{f}', '--format', 'svg'],
    ['quiz', '{f}', '--text', '--all'],
    ['export-http', '{f}', '-o', '{x}'],
]

def records(b):
    """Offsets of (record header, data) in a classic pcap, or of blocks in pcapng."""
    offs = []
    if len(b) < 24:
        return offs, None
    magic = b[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '<' if magic[0] in (0xd4, 0x4d) else '>'
        p = 24
        while p + 16 <= len(b):
            n = struct.unpack(e + 'I', b[p + 8:p + 12])[0]
            offs.append(p)
            p += 16 + n
        return offs, ('pcap', e)
    if magic == b'\x0a\x0d\x0d\x0a':
        e = '<' if b[8:12] == b'\x4d\x3c\x2b\x1a' else '>'
        p = 0
        while p + 12 <= len(b):
            n = struct.unpack(e + 'I', b[p + 4:p + 8])[0]
            if n < 12:
                break
            offs.append(p)
            p += n
        return offs, ('pcapng', e)
    return offs, None

def lie(b):
    """Write a wrong value into a length field."""
    offs, kind = records(b)
    if not offs:
        return flip(b)
    b = bytearray(b)
    p = rng.choice(offs)
    vals = [0, 1, 0xffff, 0xffffffff, 0x7fffffff, rng.randrange(1 << 32), 65536, 262145]
    v = rng.choice(vals)
    e = kind[1]
    if kind[0] == 'pcap':
        field = rng.choice([8, 12, 'ip', 'tcp'])
        if field in (8, 12):
            b[p + field:p + field + 4] = struct.pack(e + 'I', v)
        elif field == 'ip' and p + 16 + 18 <= len(b):
            b[p + 16 + 16:p + 16 + 18] = struct.pack('>H', v & 0xffff)
        elif p + 16 + 47 <= len(b):
            b[p + 16 + 46] = rng.randrange(256)
    else:
        b[p + 4:p + 8] = struct.pack(e + 'I', v)
    return bytes(b)

def flip(b):
    b = bytearray(b)
    for _ in range(rng.choice([1, 1, 2, 4, 16, 64])):
        if b:
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    return bytes(b)

def truncate(b):
    return b[:rng.randrange(len(b) + 1)]

def splice(b):
    other = rng.choice(seeds)
    oo, ok = records(other)
    bo, bk = records(b)
    if ok and bk and ok == bk and oo and bo:
        a = rng.choice(bo)
        c = rng.choice(oo)
        return b[:a] + other[c:]
    i = rng.randrange(len(b) + 1)
    return b[:i] + other[rng.randrange(len(other) + 1):]

def repeat(b):
    """A run of bytes copied many times (floods of one record, nested headers)."""
    if len(b) < 2:
        return b
    i = rng.randrange(len(b))
    j = min(len(b), i + rng.randrange(1, 200))
    return b[:j] + b[i:j] * rng.randrange(2, 200) + b[j:]

MUTATORS = [flip, flip, truncate, lie, lie, splice, repeat]

def mutant():
    b = rng.choice(seeds)
    for _ in range(rng.choice([1, 1, 2, 3])):
        b = rng.choice(MUTATORS)(b)
    return b

def limit():
    resource.setrlimit(resource.RLIMIT_AS, (mem_kb * 1024, mem_kb * 1024))

totals = {'inputs': 0, 'runs': 0, 'ok': 0, 'error': 0, 'panic': 0, 'crash': 0, 'hang': 0}
end = time.time() + minutes * 60
start = time.time()
while time.time() < end:
    data = mutant()
    totals['inputs'] += 1
    f = os.path.join(work, 'input.pcap')
    with open(f, 'wb') as fh:
        fh.write(data)
    for cmd in COMMANDS:
        x = os.path.join(work, 'export')
        shutil.rmtree(x, ignore_errors=True)
        args = [a.format(f=f, x=x) for a in cmd]
        totals['runs'] += 1
        try:
            r = subprocess.run([binary] + args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=timeout, preexec_fn=limit)
            err = r.stderr.decode('utf-8', 'replace')
            if b'panicked' in r.stderr or r.returncode == 101:
                kind = 'panic'
            elif r.returncode < 0:
                kind = 'crash'
            elif r.returncode == 0:
                kind = 'ok'
            else:
                kind = 'error'  # a refused input, said on stderr: fine
        except subprocess.TimeoutExpired:
            kind, err = 'hang', 'timeout after %s s' % timeout
        totals[kind] += 1
        if kind in ('panic', 'crash', 'hang'):
            n = '%s-%d-%s' % (kind, totals['inputs'], cmd[0])
            shutil.copy(f, os.path.join(out, 'findings', n + '.pcap'))
            with open(os.path.join(out, 'findings', n + '.txt'), 'w') as fh:
                fh.write('tcpscope %s\n\n%s\n' % (' '.join(args), err[-4000:]))
            print('FOUND', kind, n, flush=True)
summary = ' '.join('%s=%d' % kv for kv in totals.items())
line = '%s seconds=%d seeds=%d %s' % (time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
                                      time.time() - start, len(seeds), summary)
print(line)
with open(os.path.join(out, 'totals.txt'), 'a') as fh:
    fh.write(line + '\n')
sys.exit(1 if totals['panic'] + totals['crash'] + totals['hang'] else 0)
