#!/usr/bin/env bash
# Re-records the cleartext HTTP/2 captures (h2-*.pcap) in this directory.
# With arguments, only the named captures:  sudo bash captures/record-http2.sh h2-lossy-download.pcap
#
# Everything runs inside one private network namespace (its own loopback); no packet
# leaves the machine.  Run as root:   sudo bash captures/record-http2.sh
#
# Servers: nghttpd (nghttp2-server, h2c prior knowledge and Upgrade) and nginx-light
# (`listen ... http2`, prior knowledge only, with gzip).  Clients: curl (nghttp2 inside)
# and nghttp (nghttp2-client).  The served files are made here from fixed seeds, so
# their SHA-256 (written to h2-served-sha256.txt) are the same on every run.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$HERE
[[ $EUID -eq 0 ]] || { echo "record-http2.sh: must be run as root" >&2; exit 1; }
for c in ip tcpdump nghttpd nghttp nginx curl python3 sha256sum; do
    command -v "$c" >/dev/null 2>&1 || {
        echo "record-http2.sh: missing $c (apt-get install nghttp2-server nghttp2-client nginx-light)" >&2
        exit 1
    }
done

ONLY=" $* "
want() { [[ $ONLY == "  " || $ONLY == *" $1 "* ]]; }
NS=tsh2
WORK=$(mktemp -d /tmp/tcpscope-h2.XXXXXX)
chmod 755 "$WORK"
DOC=$WORK/docroot
PIDS=()
log() { printf '[record-http2] %s\n' "$*" >&2; }

cleanup() {
    for p in "${PIDS[@]:-}"; do [[ -n $p ]] && kill "$p" 2>/dev/null || true; done
    ip netns pids $NS 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del $NS 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
ip netns del $NS 2>/dev/null || true
ip netns add $NS
ip netns exec $NS ip link set lo up
# Loopback's 64 KiB MTU would put whole files in one segment: a smaller MTU makes the
# frames cross segment boundaries, as on a real link.
ip netns exec $NS ip link set lo mtu 1500
nsx() { ip netns exec $NS "$@"; }

# --- served files (deterministic) ---
mkdir -p "$DOC"
python3 - "$DOC" <<'EOF'
import random, sys, os
d = sys.argv[1]
def write(name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
r = random.Random(16)
write("small.txt", b"hello over HTTP/2\n")
write("big.bin", bytes(r.getrandbits(8) for _ in range(300_000)))
write("a.txt", b"".join(b"line %d of a.txt\n" % i for i in range(2000)))
write("b.txt", b"".join(b"b.txt says %d\n" % i for i in range(3000)))
write("c.txt", b"c" * 40_000)
write("post.bin", bytes(r.getrandbits(8) for _ in range(20_000)))
EOF
chmod -R a+rX "$DOC"

start_tcpdump() {  # file port
    ip netns exec $NS tcpdump -i lo --immediate-mode -B 65536 -U -s 0 -w "$WORK/$1" "tcp port $2" >/dev/null 2>&1 &
    PIDS+=($!)
    TCPDUMP=$!
    sleep 2
}
stop_tcpdump() {  # file
    sleep 1.5
    kill -INT "$TCPDUMP" 2>/dev/null || true
    wait "$TCPDUMP" 2>/dev/null || true
    cp "$WORK/$1" "$OUT/$1"
    log "wrote $1"
}

# --- nghttpd on 8080 (odd port on purpose: detection is from bytes, not port) ---
ip netns exec $NS nghttpd --no-tls -d "$DOC" 8080 >/dev/null 2>&1 &
PIDS+=($!)
sleep 1

if want h2-prior-knowledge.pcap; then
start_tcpdump h2-prior-knowledge.pcap 8080
nsx curl -s --http2-prior-knowledge -o /dev/null http://127.0.0.1:8080/small.txt
stop_tcpdump h2-prior-knowledge.pcap
fi

# curl 7.88 fails (exit 16) to multiplex prior-knowledge requests on one connection:
# --parallel-immediate gives one HTTP/2 connection per URL; nghttp below multiplexes.
if want h2-parallel.pcap; then
start_tcpdump h2-parallel.pcap 8080
nsx curl -s --http2-prior-knowledge --parallel --parallel-immediate -o /dev/null -o /dev/null \
    -o /dev/null -o /dev/null http://127.0.0.1:8080/a.txt http://127.0.0.1:8080/b.txt \
    http://127.0.0.1:8080/c.txt http://127.0.0.1:8080/big.bin
stop_tcpdump h2-parallel.pcap
fi

if want h2-nghttp-multi.pcap; then
start_tcpdump h2-nghttp-multi.pcap 8080
nsx nghttp -n http://127.0.0.1:8080/a.txt http://127.0.0.1:8080/b.txt \
    http://127.0.0.1:8080/c.txt http://127.0.0.1:8080/small.txt
stop_tcpdump h2-nghttp-multi.pcap
fi


if want h2-post.pcap; then
start_tcpdump h2-post.pcap 8080
nsx curl -s --http2-prior-knowledge -o /dev/null --data-binary @"$DOC/post.bin" \
    http://127.0.0.1:8080/small.txt
stop_tcpdump h2-post.pcap
fi

# --- nginx with http2 on cleartext and gzip, port 8081 ---
cat >"$WORK/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 64; }
http {
    access_log off;
    types { text/plain txt; application/octet-stream bin; }
    gzip on; gzip_types text/plain; gzip_min_length 100;
    server {
        listen 127.0.0.1:8081 http2;
        root $DOC;
    }
}
EOF
ip netns exec $NS nginx -c "$WORK/nginx.conf" -p "$WORK" >/dev/null 2>&1 &
PIDS+=($!)
sleep 2
if want h2-nginx-gzip.pcap; then
start_tcpdump h2-nginx-gzip.pcap 8081
# (one URL: curl 7.88 reusing the connection for a second URL fails against nginx 1.22
# with exit 16, an HTTP/2 framing error on curl's side)
nsx curl -s --http2-prior-knowledge --compressed -o /dev/null http://127.0.0.1:8081/a.txt || { log "curl against nginx failed"; cat "$WORK"/nginx-error.log >&2; exit 1; }
stop_tcpdump h2-nginx-gzip.pcap
fi

# --- h2c Upgrade: nghttpd and nginx do not offer it; captures/h2c-upgrade-server.py does
# (101, then stream 1 answered in HTTP/2), against curl --http2 as the client.
ip netns exec $NS python3 "$HERE/h2c-upgrade-server.py" "$DOC" 8082 &
PIDS+=($!)
sleep 1
if want h2-upgrade.pcap; then
start_tcpdump h2-upgrade.pcap 8082
nsx curl -s --http2 -o /dev/null http://127.0.0.1:8082/a.txt
stop_tcpdump h2-upgrade.pcap
fi

# --- a lossy download: nftables drops about 3 % of nghttpd's data segments on their way
# in to the client (after tcpdump saw them leave on lo: the sender's view, as in
# tcp-lossy-server-side.pcap), so each dropped segment appears twice, the original and
# TCP's retransmission; two multiplexed streams cross them. (A drop in the output hook
# would not do: TCP sees a local drop as a failed send and simply sends again.)
if want h2-lossy-download.pcap; then
    # Segments of at most the MTU: nftables sees TCP's skbs before GSO splits them, so
    # without this a drop would take up to 64 KiB at once (one in a few dozen packets).
    nsx ip link set lo gso_max_size 1500
    nsx nft -f - <<'NFT'
table inet tsh2_lossy {
    chain in {
        type filter hook input priority 0; policy accept;
        tcp sport 8080 meta length > 200 numgen random mod 100 < 3 counter drop
    }
}
NFT
    start_tcpdump h2-lossy-download.pcap 8080
    nsx nghttp -n http://127.0.0.1:8080/big.bin http://127.0.0.1:8080/b.txt
    stop_tcpdump h2-lossy-download.pcap
    log "  nft: $(nsx nft list table inet tsh2_lossy | grep -o 'counter packets [0-9]*')"
    nsx nft delete table inet tsh2_lossy
    nsx ip link set lo gso_max_size 65536
fi

(cd "$DOC" && sha256sum small.txt big.bin a.txt b.txt c.txt post.bin) >"$OUT/h2-served-sha256.txt"
log "wrote h2-served-sha256.txt"
