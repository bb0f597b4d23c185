#!/usr/bin/env bash
# Re-records the TLS captures in captures/tls/ with real peers: nginx (nginx-light, its
# ssl module) with a self-signed certificate for tls.test, and curl writing its key log
# through SSLKEYLOGFILE. Everything runs in two private network namespaces made here
# (client <-> server over one veth pair); no packet leaves this machine. Run as root:
#     sudo bash captures/record-tls.sh
#
#   ns tstls-cli  cli0 10.78.1.2  <---->  srv0 10.78.1.1  ns tstls-srv
#
# Writes for each capture NAME.pcap and (except tls13-nokeys) NAME.keys, the served
# files' SHA-256 in served-sha256.txt, and tls13-dsb.pcapng (tls13-aes128 with its keys
# injected as a Decryption Secrets Block by editcap).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$HERE/tls
[[ $EUID -eq 0 ]] || { echo "record-tls.sh: run as root" >&2; exit 1; }
for c in ip nft tcpdump nginx curl openssl editcap python3 sha256sum; do
    command -v "$c" >/dev/null || { echo "record-tls.sh: missing tool: $c (apt-get install nginx-light curl tcpdump wireshark-common nftables)" >&2; exit 1; }
done

NS_C=tstls-cli; NS_S=tstls-srv; C4=10.78.1.2; S4=10.78.1.1
WORK=$(mktemp -d /tmp/tcpscope-tls.XXXXXX); chmod 755 "$WORK"
DOC=$WORK/docroot; NGINX_PID=""
log() { printf '[record-tls] %s\n' "$*" >&2; }

teardown() {
    local ns p
    for ns in $NS_C $NS_S; do
        if ip netns list | grep -qw "^$ns"; then
            for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null || true; done
        fi
    done
    sleep 0.2
    for ns in $NS_C $NS_S; do ip netns del "$ns" 2>/dev/null || true; done
}
cleanup() {
    local rc=$?
    set +e
    [[ -n $NGINX_PID ]] && kill -QUIT "$NGINX_PID" 2>/dev/null
    teardown
    rm -rf "$WORK"
    [[ $rc -ne 0 ]] && log "FAILED (exit $rc)"
    exit $rc
}
trap cleanup EXIT

setup_net() {
    teardown
    ip netns add $NS_C; ip netns add $NS_S
    ip link add cli0 netns $NS_C type veth peer name srv0 netns $NS_S
    ip -n $NS_C link set cli0 address 02:00:0a:4e:01:02
    ip -n $NS_S link set srv0 address 02:00:0a:4e:01:01
    ip -n $NS_C addr add $C4/24 dev cli0; ip -n $NS_S addr add $S4/24 dev srv0
    for ns in $NS_C $NS_S; do ip -n $ns link set lo up; done
    ip -n $NS_C link set cli0 up; ip -n $NS_S link set srv0 up
    # Segments as on a real wire (no 64 kB offload super-frames).
    ip netns exec $NS_C ethtool -K cli0 tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    ip netns exec $NS_S ethtool -K srv0 tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
}

make_files() {
    mkdir -p "$DOC"
    python3 - "$DOC" <<'PY'
import random, sys, os
d = sys.argv[1]
r = random.Random(15)
open(os.path.join(d, "small.txt"), "w").write("".join(r.choice("abcdefghij\n") for _ in range(1500)))
open(os.path.join(d, "big.bin"), "wb").write(bytes(r.getrandbits(8) for _ in range(600_000)))
words = ["tcp", "tls", "record", "handshake", "key", "log", "nginx", "curl", "<p>", "</p>\n"]
open(os.path.join(d, "page.html"), "w").write("<html>" + " ".join(r.choice(words) for _ in range(40_000)) + "</html>\n")
open(os.path.join(d, "mid.bin"), "wb").write(bytes(r.getrandbits(8) for _ in range(100_000)))
PY
    (cd "$DOC" && sha256sum small.txt big.bin page.html mid.bin) > "$OUT/served-sha256.txt"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=tls.test" \
        -addext "subjectAltName=DNS:tls.test" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
}

start_nginx() {
    cat > "$WORK/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/error.log;
events { worker_connections 64; }
http {
    access_log off;
    types { text/plain txt; text/html html; application/octet-stream bin; }
    client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
    uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
    server {
        listen $S4:443 ssl http2;
        server_name tls.test;
        ssl_certificate $WORK/cert.pem;
        ssl_certificate_key $WORK/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305;
        ssl_session_tickets off;
        keepalive_timeout 5;
        gzip on; gzip_min_length 100;
        root $DOC;
    }
}
CONF
    mkdir -p "$WORK/tmp"
    ip netns exec $NS_S nginx -c "$WORK/nginx.conf" &
    NGINX_PID=$!
    for _ in $(seq 50); do
        ip netns exec $NS_C bash -c "exec 3<>/dev/tcp/$S4/443" 2>/dev/null && return 0
        sleep 0.1
    done
    log "nginx did not start"; cat "$WORK/error.log" >&2; exit 1
}

# record NAME KEYS(yes|no) CURL-ARGS...
record() {
    local name=$1 keys=$2; shift 2
    local pcap=$OUT/$name.pcap kl=$WORK/$name.keys
    rm -f "$pcap" "$kl"
    ip netns exec $NS_C tcpdump -i cli0 -s 0 -U -w "$pcap" "tcp port 443" 2>/dev/null &
    local td=$!
    sleep 0.5
    ip netns exec $NS_C env SSLKEYLOGFILE="$kl" curl -sS -k --resolve tls.test:443:$S4 \
        -o /dev/null "$@"
    sleep 0.5
    kill -INT $td; wait $td 2>/dev/null || true
    if [[ $keys == yes ]]; then cp "$kl" "$OUT/$name.keys"; fi
    log "$name: $(stat -c %s "$pcap") bytes"
}

# HTTP/2 over TLS (ALPN h2): several requests multiplexed on one connection by
# `curl --parallel` (curl waits for the connection and multiplexes by default), one of
# them gzip-encoded (--compressed: nginx gzips text/html), one a 404.
record_h2() {
    record tls13-h2 yes --http2 $U/small.txt
    record tls13-h2-parallel yes --http2 --parallel --compressed $U/small.txt \
        -o /dev/null $U/page.html -o /dev/null $U/mid.bin -o /dev/null $U/missing.txt
    record tls12-h2 yes --http2 --tls-max 1.2 --ciphers ECDHE-RSA-CHACHA20-POLY1305 $U/small.txt
}

# A HelloRetryRequest and a resumed session: nginx reloaded with P-256 as its only
# group (curl's key share is X25519, so the server asks for a second ClientHello) and
# session tickets on; the second connection resumes the first one's session (PSK: no
# Certificate), the first closes with `Connection: close`.
record_retry() {
    sed -i -e 's/ssl_session_tickets off;/ssl_session_tickets on; ssl_ecdh_curve prime256v1;/' "$WORK/nginx.conf"
    kill -HUP "$NGINX_PID"; sleep 1
    record tls13-hrr yes "${H1[@]}" --tlsv1.3 $U/small.txt
    record tls13-resume yes "${H1[@]}" --tlsv1.3 -H 'Connection: close' $U/small.txt \
        --next -k --resolve tls.test:443:$S4 "${H1[@]}" --tlsv1.3 -o /dev/null $U/mid.bin
}

U=https://tls.test
H1=(--http1.1)
mkdir -p "$OUT"
setup_net
make_files
start_nginx
# ONLY=h2: re-record only the HTTP/2-over-TLS captures (the others keep their keys).
if [[ ${ONLY:-} == h2 ]]; then
    record_h2
    log "done (h2 only)"
    exit 0
fi
# ONLY=retry: re-record only tls13-hrr and tls13-resume.
if [[ ${ONLY:-} == retry ]]; then
    record_retry
    log "done (retry only)"
    exit 0
fi
record tls13-aes128 yes "${H1[@]}" --tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256 $U/small.txt
record tls13-aes256 yes "${H1[@]}" --tlsv1.3 --tls13-ciphers TLS_AES_256_GCM_SHA384 $U/small.txt
record tls13-chacha20 yes "${H1[@]}" --tlsv1.3 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256 $U/small.txt
record tls12-aes128gcm yes "${H1[@]}" --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256 $U/small.txt
record tls12-aes256gcm yes "${H1[@]}" --tls-max 1.2 --ciphers ECDHE-RSA-AES256-GCM-SHA384 $U/small.txt
record tls12-chacha20 yes "${H1[@]}" --tls-max 1.2 --ciphers ECDHE-RSA-CHACHA20-POLY1305 $U/small.txt
record tls13-keepalive yes "${H1[@]}" $U/small.txt -o /dev/null $U/big.bin
record tls13-gzip-chunked yes "${H1[@]}" --compressed $U/page.html
record_h2
record tls13-nokeys no "${H1[@]}" $U/small.txt
# A lossy download: the server drops every 40th large segment once (TCP retransmits).
ip netns exec $NS_S nft -f - <<NFT
table inet tlsloss {
    chain out {
        type filter hook output priority 0;
        tcp sport 443 meta length > 1000 numgen inc mod 40 == 7 counter drop
    }
}
NFT
record tls12-lossy yes "${H1[@]}" --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256 $U/big.bin
ip netns exec $NS_S nft list table inet tlsloss | grep -o "counter.*" >&2 || true
ip netns exec $NS_S nft delete table inet tlsloss
record_retry
editcap --inject-secrets "tls,$OUT/tls13-aes128.keys" "$OUT/tls13-aes128.pcap" "$OUT/tls13-dsb.pcapng"
log "done: $(ls "$OUT" | wc -l) files in $OUT"
