#!/usr/bin/env bash
# A fresh machine, staged: build a crate that links libpcap as tcpscope does (the `pcap`
# crate, with tcpscope's build/libpcap.rs as build script) where libpcap's development
# files (libpcap.so, libpcap.a, libpcap.pc: Debian's libpcap-dev) are hidden, and where
# no libpcap is left at all. The system is never changed: each case runs in a private
# mount namespace where an overlay hides the files from this process tree only.
#
#   control  dev files hidden, tcpscope's lookup left out: the link must fail (-lpcap)
#   runtime  dev files hidden (only libpcap.so.0.8 and the real file left): must build,
#            and the binary must read a capture
#   none     every libpcap file hidden: the build script must stop with the one line
#            naming the packages
#   at-once  every libpcap file hidden, tcpscope itself built from a clean target folder,
#            as the README says: the check in build/rustc-wrapper (run by cargo before
#            rustc, see .cargo/config.toml) must stop it before any crate is compiled
#
# The three linkcheck cases run without the wrapper (RUSTC_WRAPPER empty), so they test
# build/libpcap.rs alone: it is the fallback when the wrapper is replaced.
#
# Needs root, unshare and overlayfs; exits 77 (skipped) without them. Prints one line per
# case: `ok CASE ...` or `FAIL CASE ...`; exit status 1 if any failed.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
libdir="/usr/lib/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)"
scratch="${FRESH_SCRATCH:-$repo/target/fresh-machine}"
capture="$repo/captures/http-get.pcap"

if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
    echo "skipped: needs root and unshare"; exit 77
fi
if ! unshare -m true 2>/dev/null; then
    echo "skipped: cannot make a mount namespace here"; exit 77
fi
if [ ! -e "$libdir/libpcap.so.0.8" ] && [ ! -e "$libdir/libpcap.so.1" ]; then
    echo "skipped: no runtime libpcap in $libdir to stage with"; exit 77
fi

mkdir -p "$scratch"
rm -rf "$scratch/src"
cp -r "$here/linkcheck" "$scratch/src"
# Point the build script's #[path] at this repo's build/libpcap.rs.
sed -i "s|#\[path = \"../../../build/libpcap.rs\"\]|#[path = \"$repo/build/libpcap.rs\"]|" "$scratch/src/build.rs"
cp "$repo/Cargo.lock" "$scratch/src/Cargo.lock"

# run_hidden WHAT CMD...: run CMD in a namespace where WHAT (dev|all) libpcap files are hidden.
run_hidden() {
    local what="$1"; shift
    unshare -m bash -s "$what" "$libdir" "$@" <<'INNER'
set -e
what="$1"; libdir="$2"; shift 2
ov="$(mktemp -d)"
mount -t tmpfs none "$ov"
mkdir -p "$ov/upper/pkgconfig" "$ov/work"
hide() { [ -e "$libdir/$1" ] || [ -L "$libdir/$1" ] && mknod "$ov/upper/$1" c 0 0 || true; }
hide libpcap.so; hide libpcap.a; hide pkgconfig/libpcap.pc
if [ "$what" = all ]; then
    for f in "$libdir"/libpcap.so.*; do hide "$(basename "$f")"; done
fi
mount -t overlay overlay -o "lowerdir=$libdir,upperdir=$ov/upper,workdir=$ov/work" "$libdir"
set +e
"$@"
INNER
}

fails=0
build() { # CASE WHAT SKIP: cargo build of the tiny crate, its log in $scratch/CASE.log
    local case="$1" what="$2" skip="$3"
    # A different target dir per case, so every case runs both build scripts afresh.
    run_hidden "$what" env RUSTC_WRAPPER= LINKCHECK_SKIP="$skip" CARGO_TARGET_DIR="$scratch/target-$case" \
        cargo build --manifest-path "$scratch/src/Cargo.toml" >"$scratch/$case.log" 2>&1
}

# control: without the lookup, the link fails as on a fresh machine.
if build control dev 1; then
    echo "FAIL control: linked without libpcap.so and without the lookup (is the overlay hiding it?)"; fails=1
elif grep -q "unable to find library -lpcap\|cannot find -lpcap" "$scratch/control.log"; then
    echo "ok control: without the lookup the link fails: $(grep -o 'unable to find library -lpcap\|cannot find -lpcap' "$scratch/control.log" | head -1)"
else
    echo "FAIL control: failed, but not for -lpcap (see $scratch/control.log)"; fails=1
fi

# runtime: only the runtime library: builds, and the binary reads a capture.
if build runtime dev 0; then
    out="$(run_hidden dev "$scratch/target-runtime/debug/linkcheck" "$capture" 2>&1)"
    hidden="$(run_hidden dev sh -c "ls $libdir/libpcap.so 2>&1 || true")"
    if echo "$out" | grep -q "^packets [1-9]"; then
        echo "ok runtime: built and ran with $libdir/libpcap.so hidden ($hidden): $(echo "$out" | tr '\n' ' ')"
    else
        echo "FAIL runtime: built but did not read the capture: $out"; fails=1
    fi
else
    echo "FAIL runtime: did not build with only the runtime library (see $scratch/runtime.log)"; fails=1
fi

# none: no libpcap at all: stops in the build script with the one line.
start=$(date +%s%N)
if build none all 0; then
    echo "FAIL none: built without any libpcap"; fails=1
else
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    secs="$((ms / 1000)).$(printf %03d $((ms % 1000)))"
    line="$(grep -o "tcpscope needs libpcap.*" "$scratch/none.log" | head -1)"
    compiled=$(grep -c "Compiling" "$scratch/none.log")
    if [ -n "$line" ]; then
        echo "ok none: stopped after ${secs}s ($compiled crates compiled, in flight or before the build script ran): $line"
    else
        echo "FAIL none: no one-line message naming the package (see $scratch/none.log)"; fails=1
    fi
fi
# at-once: the real crate, no libpcap at all, nothing built yet: stops before compiling.
rm -rf "$scratch/target-at-once"
start=$(date +%s%N)
if (cd "$repo" && run_hidden all env -u RUSTC_WRAPPER CARGO_TARGET_DIR="$scratch/target-at-once" \
        cargo build --release >"$scratch/at-once.log" 2>&1); then
    echo "FAIL at-once: tcpscope built without any libpcap"; fails=1
else
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    secs="$((ms / 1000)).$(printf %03d $((ms % 1000)))"
    line="$(grep -o "tcpscope needs libpcap.*" "$scratch/at-once.log" | head -1)"
    compiled=$(grep -c "Compiling" "$scratch/at-once.log")
    if [ -n "$line" ] && [ "$compiled" = 0 ]; then
        echo "ok at-once: stopped after ${secs}s with $compiled crates compiled: $line"
    else
        echo "FAIL at-once: $compiled crates compiled before it stopped, message: ${line:-none} (see $scratch/at-once.log)"; fails=1
    fi
fi
exit $fails
