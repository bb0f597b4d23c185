#!/usr/bin/env bash
# Re-records the packet captures in this directory.
#
# Everything happens inside three private network namespaces created here
# (client -> router -> server, joined by veth pairs); no packet leaves this
# machine.  Run as root:   sudo bash captures/record.sh
#
# Topology (addresses are private to the namespaces):
#
#   ns tscap-cli            ns tscap-rtr                      ns tscap-srv
#   cli0 10.77.1.2  <---->  rc0 10.77.1.1 | rs0 10.77.2.1 <---->  srv0 10.77.2.2
#        fd00:77:1::2           fd00:77:1::1 | fd00:77:2::1         fd00:77:2::2
#
# nginx (nginx-light) runs in tscap-srv; small python3 servers/clients cover
# what curl cannot do.  tcpdump writes classic pcap, snaplen 0, Ethernet.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$HERE

if [[ $EUID -ne 0 ]]; then
    echo "record.sh: must be run as root (it creates network namespaces)" >&2
    exit 1
fi

need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || { echo "record.sh: missing tool: $c" >&2; exit 1; }
    done
}
if ! command -v ethtool >/dev/null 2>&1; then
    apt-get install -y ethtool >/dev/null 2>&1 || true
fi
need ip nft tcpdump nginx curl python3 ethtool sha256sum
PY=$(command -v python3)
ECHO_MOD=""
for m in /usr/lib/nginx/modules/ngx_http_echo_module.so /usr/share/nginx/modules/ngx_http_echo_module.so; do
    if [[ -f $m ]]; then ECHO_MOD=$m; break; fi
done
[[ -n $ECHO_MOD ]] || { echo "record.sh: nginx echo module (libnginx-mod-http-echo) not found" >&2; exit 1; }

NS_C=tscap-cli
NS_R=tscap-rtr
NS_S=tscap-srv
C4=10.77.1.2;  R4C=10.77.1.1;  R4S=10.77.2.1;  S4=10.77.2.2
C6=fd00:77:1::2; R6C=fd00:77:1::1; R6S=fd00:77:2::1; S6=fd00:77:2::2

WORK=$(mktemp -d /tmp/tcpscope-captures.XXXXXX)
chmod 755 "$WORK"          # nginx workers run as nobody
DOC=$WORK/docroot
NGINX_PID=""
BG_PIDS=()

log() { printf '[record] %s\n' "$*" >&2; }

kill_ns_procs() {
    # processes left inside our own namespaces (from this or an aborted run)
    local ns=$1 p
    if ip netns list | grep -qw "^$ns"; then
        for p in $(ip netns pids "$ns" 2>/dev/null); do
            kill -TERM "$p" 2>/dev/null || true
        done
    fi
}

teardown_net() {
    local ns
    for ns in $NS_C $NS_R $NS_S; do
        kill_ns_procs "$ns"
    done
    sleep 0.2
    for ns in $NS_C $NS_R $NS_S; do
        if ip netns list | grep -qw "^$ns"; then
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
}

cleanup() {
    local rc=$? p
    set +e
    for p in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do
        kill -INT "$p" 2>/dev/null
    done
    if [[ -n $NGINX_PID ]]; then
        kill -QUIT "$NGINX_PID" 2>/dev/null
        wait "$NGINX_PID" 2>/dev/null
    fi
    for p in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do
        wait "$p" 2>/dev/null
    done
    teardown_net
    rm -rf "$WORK"
    if [[ $rc -ne 0 ]]; then log "FAILED (exit $rc)"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- network
setup_net() {
    teardown_net        # idempotent: remove leftovers of an aborted run
    ip netns add $NS_C
    ip netns add $NS_R
    ip netns add $NS_S
    ip link add cli0 netns $NS_C type veth peer name rc0 netns $NS_R
    ip link add srv0 netns $NS_S type veth peer name rs0 netns $NS_R
    ip -n $NS_C link set cli0 address 02:00:0a:4d:01:02
    ip -n $NS_R link set rc0  address 02:00:0a:4d:01:01
    ip -n $NS_R link set rs0  address 02:00:0a:4d:02:01
    ip -n $NS_S link set srv0 address 02:00:0a:4d:02:02

    local ns dev
    for ns in $NS_C $NS_R $NS_S; do
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
        ip -n "$ns" link set lo up
    done
    ip netns exec $NS_R sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

    # Real wire-sized segments and correct checksums in the captures:
    # no TSO/GSO/GRO super-packets, no checksum offload.
    for pair in "$NS_C cli0" "$NS_R rc0" "$NS_R rs0" "$NS_S srv0"; do
        set -- $pair
        ip netns exec "$1" ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    done

    ip -n $NS_C addr add $C4/24 dev cli0
    ip -n $NS_C addr add $C6/64 dev cli0 nodad
    ip -n $NS_R addr add $R4C/24 dev rc0
    ip -n $NS_R addr add $R6C/64 dev rc0 nodad
    ip -n $NS_R addr add $R4S/24 dev rs0
    ip -n $NS_R addr add $R6S/64 dev rs0 nodad
    ip -n $NS_S addr add $S4/24 dev srv0
    ip -n $NS_S addr add $S6/64 dev srv0 nodad
    for pair in "$NS_C cli0" "$NS_R rc0" "$NS_R rs0" "$NS_S srv0"; do
        set -- $pair
        ip -n "$1" link set "$2" up
    done
    ip -n $NS_C route add default via $R4C
    ip -n $NS_C -6 route add default via $R6C
    ip -n $NS_S route add default via $R4S
    ip -n $NS_S -6 route add default via $R6S

    # Static neighbour entries (fixed MACs): no ARP / neighbour discovery
    # delay in front of the first SYN of a capture.
    ip -n $NS_C neigh replace $R4C lladdr 02:00:0a:4d:01:01 dev cli0 nud permanent
    ip -n $NS_C neigh replace $R6C lladdr 02:00:0a:4d:01:01 dev cli0 nud permanent
    ip -n $NS_R neigh replace $C4  lladdr 02:00:0a:4d:01:02 dev rc0  nud permanent
    ip -n $NS_R neigh replace $C6  lladdr 02:00:0a:4d:01:02 dev rc0  nud permanent
    ip -n $NS_R neigh replace $S4  lladdr 02:00:0a:4d:02:02 dev rs0  nud permanent
    ip -n $NS_R neigh replace $S6  lladdr 02:00:0a:4d:02:02 dev rs0  nud permanent
    ip -n $NS_S neigh replace $R4S lladdr 02:00:0a:4d:02:01 dev srv0 nud permanent
    ip -n $NS_S neigh replace $R6S lladdr 02:00:0a:4d:02:01 dev srv0 nud permanent
}

# ---------------------------------------------------------------- content
make_docroot() {
    mkdir -p "$DOC" "$WORK/nginx/tmp" "$WORK/py" "$WORK/dl"
    "$PY" - "$DOC" "$WORK" <<'EOF'
import hashlib, json, sys, os
doc, work = sys.argv[1], sys.argv[2]

def w(name, data):
    with open(os.path.join(doc, name), "wb") as f:
        f.write(data)

w("index.html", b"""<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>tcpscope test server</title></head>
<body>
<h1>tcpscope test server</h1>
<p>This page is served by nginx inside a private network namespace.
It exists so that the captures in tcpscope/captures contain a small,
known HTTP body.</p>
</body>
</html>
""")
w("hello.txt", b"hello, tcpscope\n")

# 200 KiB of compressible, line-numbered text
lines, size, i = [], 0, 0
while size < 204800:
    i += 1
    l = ("%06d the quick brown fox jumps over the lazy dog; tcpscope sample text\n" % i).encode()
    lines.append(l); size += len(l)
w("text-200k.txt", b"".join(lines)[:204800])

# 1 MiB of pseudo-random bytes: block k = SHA-256(b"tcpscope-1m:" + k as 4-byte big-endian)
blob = b"".join(hashlib.sha256(b"tcpscope-1m:" + k.to_bytes(4, "big")).digest() for k in range(32768))
assert len(blob) == 1048576
w("random-1m.bin", blob)

items = [{"id": n, "name": "item-%03d" % n, "price_cents": (n * 137) % 1000, "tags": ["t%d" % (n % 5), "tcpscope"]} for n in range(1, 21)]
w("data.json", (json.dumps({"service": "tcpscope-test", "count": len(items), "items": items}, indent=2, sort_keys=True) + "\n").encode())

# request body for the POST capture (not served): 2048 bytes of text
body = b"".join(b"upload line %04d: 0123456789abcdefghijklmnopqrstuvwxyzABCDEFG\n" % n for n in range(64))[:2048]
assert len(body) == 2048
with open(os.path.join(work, "upload-2k.txt"), "wb") as f:
    f.write(body)
EOF
    # Fixed mtime => fixed Last-Modified and ETag headers.
    touch -d @1704067200 "$DOC"/*      # 2024-01-01T00:00:00Z
    (cd "$DOC" && LC_ALL=C sha256sum -- * | sed 's#  #  /#') > "$WORK/served-sha256.txt"
}

write_nginx_conf() {
    cat > "$WORK/nginx/nginx.conf" <<EOF
load_module $ECHO_MOD;
daemon off;
master_process on;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log info;
events { worker_connections 64; }
http {
    types {
        text/html                html;
        text/plain               txt;
        application/json         json;
        application/octet-stream bin;
    }
    default_type application/octet-stream;
    access_log $WORK/nginx/access.log;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path       $WORK/nginx/tmp/proxy;
    fastcgi_temp_path     $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path       $WORK/nginx/tmp/uwsgi;
    scgi_temp_path        $WORK/nginx/tmp/scgi;
    server_tokens off;
    sendfile on;
    keepalive_timeout 30s;
    # gzip only applies when the client sends Accept-Encoding: gzip
    gzip on;
    gzip_types text/plain application/json;
    gzip_min_length 256;
    gzip_comp_level 6;

    server {
        listen $S4:80;
        listen [$S6]:80;
        server_name tcpscope-test;
        root $DOC;

        location / { }
        # same files, sent at 40 KB/s (for the mid-stream capture)
        location /slow/ {
            alias $DOC/;
            limit_rate 40k;
        }
        # reads the whole request body (=> 100 Continue) and echoes it back
        location = /upload {
            client_max_body_size 10m;
            client_body_buffer_size 64k;
            default_type text/plain;
            echo_read_request_body;
            echo_request_body;
        }
    }
}
EOF
}

start_nginx() {
    ip netns exec $NS_S nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
    NGINX_PID=$!
    local i
    for i in $(seq 50); do
        if ip netns exec $NS_C curl -sf -o /dev/null --max-time 1 "http://$S4/hello.txt"; then return 0; fi
        sleep 0.1
    done
    echo "nginx did not come up" >&2; cat "$WORK/nginx/error.log" >&2; return 1
}

# ---------------------------------------------------------------- python helpers
write_python() {
    cat > "$WORK/py/server.py" <<'EOF'
# One-shot TCP servers: half-close and RST-abort.
import socket, struct, sys, time
mode, host, port, ready = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port)); ls.listen(1)
open(ready, "w").close()
ls.settimeout(30)
c, _ = ls.accept()
ls.close()
if mode == "half-close":
    req = b""
    while True:                       # read until the client's FIN
        d = c.recv(4096)
        if not d:
            break
        req += d
    assert req.startswith(b"GET "), req
    # the client has half-closed; we keep sending for a while
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
    for n in range(5):
        time.sleep(0.1)
        c.sendall(b"".join(b"half-close chunk %d line %02d: sent after the client's FIN\n" % (n, k) for k in range(20)))
    time.sleep(0.1)
    c.close()
elif mode == "rst-abort":
    req = b""
    while b"\r\n\r\n" not in req:
        d = c.recv(4096)
        if not d:
            sys.exit("client went away")
        req += d
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n")
    for n in range(3):
        time.sleep(0.1)
        c.sendall(bytes([0x41 + n]) * 8192)
    time.sleep(0.2)
    # abort: SO_LINGER {on, 0} then close() => RST instead of FIN
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
else:
    sys.exit("unknown mode " + mode)
EOF
    cat > "$WORK/py/client.py" <<'EOF'
# Raw-socket clients for what curl cannot do.
import socket, sys, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])

def recv_all(s, bufsize=65536):
    out = b""
    while True:
        d = s.recv(bufsize)
        if not d:
            return out
        out += d

if mode == "pipelined":
    s = socket.create_connection((host, port))
    reqs = b"".join(
        b"GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tcpscope-pipeline/1\r\n%s\r\n"
        % (p, host.encode(), b"Connection: close\r\n" if last else b"")
        for p, last in ((b"/index.html", False), (b"/hello.txt", False), (b"/data.json", True)))
    s.sendall(reqs)                   # all three requests in one write
    data = recv_all(s)
    s.close()
    n = data.count(b"HTTP/1.1 200 OK\r\n")
    print("pipelined: %d bytes, %d responses" % (len(data), n))
    assert n == 3, data[:500]
elif mode == "half-close":
    s = socket.create_connection((host, port))
    s.sendall(b"GET /half-close HTTP/1.0\r\nHost: %s\r\n\r\n" % host.encode())
    s.shutdown(socket.SHUT_WR)        # FIN; we can still receive
    data = recv_all(s)
    s.close()
    print("half-close: %d bytes" % len(data))
    assert data.startswith(b"HTTP/1.0 200 OK") and data.count(b"after the client's FIN") == 100
elif mode == "zero-window":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # before connect()
    s.connect((host, port))
    s.sendall(b"GET /text-200k.txt HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host.encode())
    time.sleep(3.0)                   # do not read: the window fills and closes
    first = s.recv(4096)
    time.sleep(1.5)                   # stall again after a small read
    data = first + recv_all(s, 4096)
    s.close()
    print("zero-window: %d bytes" % len(data))
    assert data.startswith(b"HTTP/1.1 200 OK") and len(data) > 204800
elif mode == "rst-abort":
    s = socket.create_connection((host, port))
    s.sendall(b"GET /big HTTP/1.1\r\nHost: %s\r\n\r\n" % host.encode())
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
        print("rst-abort: unexpected clean EOF after %d bytes" % len(got))
        sys.exit(1)
    except ConnectionResetError:
        print("rst-abort: connection reset after %d bytes" % len(got))
    s.close()
else:
    sys.exit("unknown mode " + mode)
EOF
}

# ---------------------------------------------------------------- capture helpers
CAP_PID=""
forget_bg() {
    local p keep=()
    for p in "${BG_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    BG_PIDS=("${keep[@]+"${keep[@]}"}")
}
# start_cap NS IFACE NAME  -> tcpdump writing $WORK/NAME; sets CAP_PID
start_cap() {
    local ns=$1 ifc=$2 name=$3 i
    rm -f "$WORK/$name" "$WORK/$name.log"
    ip netns exec "$ns" tcpdump -i "$ifc" -n -s 0 -U --immediate-mode -Z root -w "$WORK/$name" tcp >"$WORK/$name.log" 2>&1 &
    CAP_PID=$!
    BG_PIDS+=("$CAP_PID")
    for i in $(seq 100); do
        if grep -q "listening on" "$WORK/$name.log" 2>/dev/null; then
            sleep 0.2
            return 0
        fi
        sleep 0.05
    done
    echo "tcpdump did not start:" >&2; cat "$WORK/$name.log" >&2; return 1
}
# stop_cap PID NAME: SIGINT, wait, move the complete file into captures/
stop_cap() {
    local pid=$1 name=$2
    sleep 0.5                            # let the last ACKs arrive
    kill -INT "$pid"
    wait "$pid" || true
    forget_bg "$pid"
    tail -n 3 "$WORK/$name.log" | head -n 1 | sed "s/^/[record]   $name: /" >&2
    mv -f "$WORK/$name" "$OUT/$name"
    chmod 644 "$OUT/$name"
}

C() { ip netns exec $NS_C "$@"; }
CURL=(curl -sS --fail --max-time 60)
check_sha() {   # check_sha FILE DOCNAME
    local a b
    a=$(sha256sum "$1" | cut -d' ' -f1)
    b=$(sha256sum "$DOC/$2" | cut -d' ' -f1)
    [[ $a == "$b" ]] || { echo "body mismatch for $2" >&2; return 1; }
}
wait_file() { local i; for i in $(seq 100); do [[ -e $1 ]] && return 0; sleep 0.05; done; return 1; }

# ---------------------------------------------------------------- scenarios
rec_http_get() {
    log "http-get.pcap"
    start_cap $NS_C cli0 http-get.pcap; local p=$CAP_PID
    C "${CURL[@]}" -o "$WORK/dl/get.html" "http://$S4/index.html"
    stop_cap $p http-get.pcap
    check_sha "$WORK/dl/get.html" index.html
}

rec_http_keepalive() {
    log "http-keepalive.pcap"
    start_cap $NS_C cli0 http-keepalive.pcap; local p=$CAP_PID
    C "${CURL[@]}" -o "$WORK/dl/ka1" -o "$WORK/dl/ka2" -o "$WORK/dl/ka3" \
        "http://$S4/index.html" "http://$S4/data.json" "http://$S4/hello.txt"
    stop_cap $p http-keepalive.pcap
    check_sha "$WORK/dl/ka1" index.html; check_sha "$WORK/dl/ka2" data.json; check_sha "$WORK/dl/ka3" hello.txt
}

rec_tcp_refused() {
    log "tcp-refused.pcap"
    start_cap $NS_C cli0 tcp-refused.pcap; local p=$CAP_PID
    local rc=0
    C curl -sS --max-time 10 -o /dev/null "http://$S4:81/" 2>/dev/null || rc=$?
    stop_cap $p tcp-refused.pcap
    [[ $rc -eq 7 ]] || { echo "expected curl exit 7 (refused), got $rc" >&2; return 1; }
}

rec_tcp_lossy() {
    log "tcp-lossy-server-side.pcap + tcp-lossy-client-side.pcap (one download, two capture points)"
    ip netns exec $NS_R nft -f - <<'EOF'
table inet tscap_lossy {
    chain forward {
        type filter hook forward priority 0; policy accept;
        iifname "rs0" oifname "rc0" meta l4proto tcp tcp sport 80 meta length > 200 numgen random mod 100 < 3 counter drop
    }
}
EOF
    start_cap $NS_S srv0 tcp-lossy-server-side.pcap; local ps=$CAP_PID
    start_cap $NS_C cli0 tcp-lossy-client-side.pcap; local pc=$CAP_PID
    C "${CURL[@]}" -o "$WORK/dl/lossy.bin" "http://$S4/random-1m.bin"
    stop_cap $pc tcp-lossy-client-side.pcap
    stop_cap $ps tcp-lossy-server-side.pcap
    log "  nft: $(ip netns exec $NS_R nft list table inet tscap_lossy | grep -o 'counter packets [0-9]*')"
    ip netns exec $NS_R nft delete table inet tscap_lossy
    check_sha "$WORK/dl/lossy.bin" random-1m.bin
    ln -sfn tcp-lossy-server-side.pcap "$OUT/http-lossy-download.pcap"
}

rec_tcp_syn_retry() {
    log "tcp-syn-retry.pcap"
    ip netns exec $NS_R nft -f - <<'EOF'
table inet tscap_syndrop {
    chain forward {
        type filter hook forward priority 0; policy accept;
        tcp dport 80 tcp flags & (syn | ack) == syn counter drop
    }
}
EOF
    start_cap $NS_C cli0 tcp-syn-retry.pcap; local p=$CAP_PID
    C "${CURL[@]}" --connect-timeout 20 -o "$WORK/dl/syn.html" "http://$S4/index.html" &
    local cpid=$! n=0 i
    BG_PIDS+=("$cpid")
    for i in $(seq 200); do         # remove the rule once 2 SYNs have been dropped
        n=$(ip netns exec $NS_R nft list table inet tscap_syndrop | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
        [[ ${n:-0} -ge 2 ]] && break
        sleep 0.05
    done
    ip netns exec $NS_R nft delete table inet tscap_syndrop
    log "  dropped $n SYNs"
    wait $cpid
    forget_bg $cpid
    stop_cap $p tcp-syn-retry.pcap
    check_sha "$WORK/dl/syn.html" index.html
}

rec_tcp_half_close() {
    log "tcp-half-close.pcap"
    rm -f "$WORK/ready-hc"
    ip netns exec $NS_S "$PY" "$WORK/py/server.py" half-close $S4 8081 "$WORK/ready-hc" &
    local spid=$!
    wait_file "$WORK/ready-hc"
    start_cap $NS_C cli0 tcp-half-close.pcap; local p=$CAP_PID
    C "$PY" "$WORK/py/client.py" half-close $S4 8081 >&2
    wait $spid
    stop_cap $p tcp-half-close.pcap
}

rec_tcp_zero_window() {
    log "tcp-zero-window.pcap"
    start_cap $NS_C cli0 tcp-zero-window.pcap; local p=$CAP_PID
    C "$PY" "$WORK/py/client.py" zero-window $S4 80 >&2
    stop_cap $p tcp-zero-window.pcap
}

rec_tcp_rst_abort() {
    log "tcp-rst-abort.pcap"
    rm -f "$WORK/ready-rst"
    ip netns exec $NS_S "$PY" "$WORK/py/server.py" rst-abort $S4 8082 "$WORK/ready-rst" &
    local spid=$!
    wait_file "$WORK/ready-rst"
    start_cap $NS_C cli0 tcp-rst-abort.pcap; local p=$CAP_PID
    C "$PY" "$WORK/py/client.py" rst-abort $S4 8082 >&2
    wait $spid
    stop_cap $p tcp-rst-abort.pcap
}

rec_tcp_midstream() {
    log "tcp-midstream.pcap"
    C "${CURL[@]}" -o "$WORK/dl/mid.txt" "http://$S4/slow/text-200k.txt" &
    local cpid=$!
    BG_PIDS+=("$cpid")
    sleep 2                         # connection established, transfer in progress
    start_cap $NS_C cli0 tcp-midstream.pcap; local p=$CAP_PID
    wait $cpid
    forget_bg $cpid
    stop_cap $p tcp-midstream.pcap
    check_sha "$WORK/dl/mid.txt" text-200k.txt
}

rec_http_gzip_chunked() {
    log "http-gzip-chunked.pcap"
    start_cap $NS_C cli0 http-gzip-chunked.pcap; local p=$CAP_PID
    C "${CURL[@]}" --compressed -o "$WORK/dl/gz1" -o "$WORK/dl/gz2" \
        "http://$S4/text-200k.txt" "http://$S4/data.json"
    stop_cap $p http-gzip-chunked.pcap
    check_sha "$WORK/dl/gz1" text-200k.txt; check_sha "$WORK/dl/gz2" data.json
}

rec_http_head_304() {
    log "http-head-304.pcap"
    local mt sz etag codes
    mt=$(stat -c %Y "$DOC/index.html"); sz=$(stat -c %s "$DOC/index.html")
    etag=$(printf '"%x-%x"' "$mt" "$sz")       # nginx ETag = "<mtime hex>-<size hex>"
    start_cap $NS_C cli0 http-head-304.pcap; local p=$CAP_PID
    codes=$(C curl -sS --max-time 20 -w '%{http_code} ' -I -o /dev/null "http://$S4/index.html" \
        --next -sS -w '%{http_code} ' -o /dev/null -H "If-None-Match: $etag" "http://$S4/index.html" \
        --next -sS -w '%{http_code} ' -o /dev/null -H "If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT" "http://$S4/index.html")
    stop_cap $p http-head-304.pcap
    log "  status codes: $codes (ETag $etag)"
    [[ $codes == "200 304 304 " ]] || { echo "unexpected codes: $codes" >&2; return 1; }
}

rec_http_post_continue() {
    log "http-post-continue.pcap"
    start_cap $NS_C cli0 http-post-continue.pcap; local p=$CAP_PID
    C "${CURL[@]}" -H 'Expect: 100-continue' -H 'Content-Type: text/plain' \
        --data-binary @"$WORK/upload-2k.txt" -o "$WORK/dl/post.out" "http://$S4/upload"
    stop_cap $p http-post-continue.pcap
    cmp "$WORK/dl/post.out" "$WORK/upload-2k.txt"
}

rec_http_pipelined() {
    log "http-pipelined.pcap"
    start_cap $NS_C cli0 http-pipelined.pcap; local p=$CAP_PID
    C "$PY" "$WORK/py/client.py" pipelined $S4 80 >&2
    stop_cap $p http-pipelined.pcap
}

rec_http_ipv6() {
    log "http-ipv6.pcap"
    start_cap $NS_C cli0 http-ipv6.pcap; local p=$CAP_PID
    C "${CURL[@]}" -g -o "$WORK/dl/v6.html" "http://[$S6]/index.html"
    stop_cap $p http-ipv6.pcap
    check_sha "$WORK/dl/v6.html" index.html
}

# ---------------------------------------------------------------- main
setup_net
make_docroot
write_nginx_conf
write_python
start_nginx

rec_http_get
rec_http_keepalive
rec_tcp_refused
rec_tcp_syn_retry
rec_tcp_half_close
rec_tcp_zero_window
rec_tcp_rst_abort
rec_tcp_midstream
rec_http_gzip_chunked
rec_http_head_304
rec_http_post_continue
rec_http_pipelined
rec_http_ipv6
rec_tcp_lossy

cp "$WORK/served-sha256.txt" "$OUT/served-sha256.txt"
log "POST body sha256: $(sha256sum "$WORK/upload-2k.txt" | cut -d' ' -f1)"
log "done:"
ls -l "$OUT"/*.pcap >&2
