# Sourced by record-fragments.sh and record-tunnels.sh: the files nginx serves and the
# nginx that serves them, the same way for both.

# serve_files DIR SEED BLOB_BYTES TEXT: blob.bin (BLOB_BYTES from the fixed seed SEED) and
# small.txt (TEXT and a newline) in DIR, readable by nginx's workers.
serve_files() {
    mkdir -p "$1"
    python3 - "$1" "$2" "$3" "$4" <<'PY'
import random, sys
d, seed, size, text = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
random.seed(seed)
open(f"{d}/blob.bin", "wb").write(bytes(random.getrandbits(8) for _ in range(size)))
open(f"{d}/small.txt", "w").write(text + "\n")
PY
    chmod 644 "$1"/*
}

# start_nginx NS WORK DOC ADDR [LISTEN_PARAMS]: nginx in namespace NS serving DOC on
# ADDR:80 (its files under WORK), started as a daemon; LISTEN_PARAMS (e.g. fastopen=16)
# go on the listen line.
start_nginx() {
    cat > "$2/nginx.conf" <<EOF
worker_processes 1;
daemon on;
pid $2/nginx.pid;
error_log $2/error.log;
events {}
http {
    access_log off;
    server { listen $4:80${5:+ $5}; root $3; }
}
EOF
    ip netns exec "$1" nginx -c "$2/nginx.conf"
    sleep 0.3
}

# write_served DOC FILE: the SHA-256 of the served files into FILE.
write_served() {
    (cd "$1" && sha256sum small.txt blob.bin) > "$2"
}
