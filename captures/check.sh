#!/usr/bin/env bash
# Checks with tshark that every capture shows what its name says.
# Usage: bash captures/check.sh      (needs tshark; does not need root)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
command -v tshark >/dev/null || { echo "check.sh: tshark not installed" >&2; exit 1; }

fails=0; passes=0
# n FILE FILTER -> number of frames matching the display filter
n() { tshark -r "$1" -Y "$2" 2>/dev/null | wc -l; }
# expect FILE FILTER OP VALUE
expect() {
    local f=$1 flt=$2 op=$3 want=$4 got
    got=$(n "$f" "$flt")
    if (( got $op want )); then
        passes=$((passes + 1)); printf 'ok    %-28s %-70s %s %s %s\n' "$f" "$flt" "$got" "$op" "$want"
    else
        fails=$((fails + 1));   printf 'FAIL  %-28s %-70s %s %s %s\n' "$f" "$flt" "$got" "$op" "$want"
    fi
}
streams() { tshark -r "$1" -T fields -e tcp.stream 2>/dev/null | sort -u | wc -l; }
expect_streams() {
    local got; got=$(streams "$1")
    if [[ $got -eq $2 ]]; then passes=$((passes + 1)); printf 'ok    %-28s tcp streams = %s\n' "$1" "$got"
    else fails=$((fails + 1)); printf 'FAIL  %-28s tcp streams = %s (want %s)\n' "$1" "$got" "$2"; fi
}

for f in *.pcap; do
    enc=$(capinfos -E "$f" 2>/dev/null | sed -n 's/.*encapsulation: *//p')
    typ=$(capinfos -t "$f" 2>/dev/null | sed -n 's/.*File type: *//p')
    if [[ $enc == Ethernet && $typ == *pcap && $typ != *pcapng* ]]; then passes=$((passes + 1))
    else fails=$((fails + 1)); echo "FAIL  $f: type '$typ' encapsulation '$enc'"; fi
done

F=http-get.pcap
expect_streams $F 1
expect $F 'tcp.flags.syn==1' == 2
expect $F 'http.request.method=="GET"' == 1
expect $F 'http.response.code==200' == 1
expect $F 'tcp.flags.fin==1' == 2
expect $F 'tcp.flags.reset==1' == 0
expect $F 'tcp.analysis.flags' == 0

F=http-keepalive.pcap
expect_streams $F 1
expect $F 'http.request.method=="GET"' == 3
expect $F 'http.response.code==200' == 3
expect $F 'tcp.flags.fin==1' == 2

F=tcp-refused.pcap
expect $F 'frame' == 2
expect $F 'tcp.flags.syn==1 && tcp.flags.ack==0' == 1
expect $F 'tcp.flags.reset==1 && tcp.flags.ack==1 && tcp.srcport==81' == 1

F=tcp-syn-retry.pcap
expect_streams $F 1
expect $F 'tcp.flags.syn==1 && tcp.flags.ack==0' == 3
expect $F 'tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.analysis.retransmission' == 2
expect $F 'tcp.flags.syn==1 && tcp.flags.ack==1' == 1
expect $F 'http.response.code==200' == 1

F=tcp-half-close.pcap
expect_streams $F 1
expect $F 'tcp.flags.fin==1 && tcp.dstport==8081' == 1
# server data sent after the client's FIN was acknowledged
expect $F 'tcp.srcport==8081 && tcp.len>0 && tcp.ack==47' '>=' 5
expect $F 'tcp.flags.fin==1 && tcp.srcport==8081' == 1
expect $F 'tcp.flags.reset==1' == 0

F=tcp-zero-window.pcap
expect_streams $F 1
expect $F 'tcp.analysis.zero_window' '>=' 2
expect $F 'tcp.analysis.keep_alive && tcp.srcport==80' '>=' 2
expect $F 'tcp.analysis.window_update' '>=' 1
expect $F 'tcp.analysis.window_full' '>=' 1
expect $F 'http.response.code==200' == 1

F=tcp-rst-abort.pcap
expect_streams $F 1
expect $F 'tcp.flags.reset==1 && tcp.srcport==8082' == 1
expect $F 'tcp.flags.fin==1' == 0
expect $F 'tcp.srcport==8082 && tcp.len>0' '>=' 10

F=tcp-midstream.pcap
expect_streams $F 1
expect $F 'tcp.flags.syn==1' == 0
expect $F 'frame.number==1 && tcp.len>0' == 1
expect $F 'tcp.flags.fin==1' == 2

F=http-gzip-chunked.pcap
expect_streams $F 1
expect $F 'http.request and http.accept_encoding contains "gzip"' == 2
expect $F 'http.content_encoding=="gzip" && http.transfer_encoding=="chunked"' == 2
expect $F 'http.response.code==200' == 2

F=http-head-304.pcap
expect_streams $F 1
expect $F 'http.request.method=="HEAD"' == 1
expect $F 'http.request.method=="GET"' == 2
expect $F 'http.response.code==200' == 1
expect $F 'http.response.code==304' == 2

F=http-post-continue.pcap
expect_streams $F 1
expect $F 'http.request.method=="POST"' == 1
expect $F 'http.response.code==100' == 1
expect $F 'http.response.code==200' == 1
expect $F 'http.transfer_encoding=="chunked"' == 1

F=http-pipelined.pcap
expect_streams $F 1
expect $F 'tcp.dstport==80 && tcp.len>0' == 1
expect $F 'http.response.code==200' == 3
pm=$(tshark -r $F -Y 'http.request' -T fields -e http.request.method 2>/dev/null)
if [[ $pm == "GET,GET,GET" ]]; then passes=$((passes + 1)); echo "ok    $F 3 requests in one segment"
else fails=$((fails + 1)); echo "FAIL  $F methods in request segment: '$pm'"; fi

F=http-ipv6.pcap
expect_streams $F 1
expect $F 'ipv6 && tcp' == 12
expect $F 'ip' == 0
expect $F 'http.response.code==200' == 1

F=tcp-lossy-server-side.pcap
expect_streams $F 1
expect $F 'tcp.analysis.retransmission || tcp.analysis.fast_retransmission || tcp.analysis.out_of_order' '>=' 5
expect $F 'tcp.analysis.duplicate_ack' '>=' 5
expect $F 'tcp.analysis.lost_segment' == 0
expect $F 'tcp.options.sack_le' '>=' 1
expect $F 'http.response.code==200' == 1

F=tcp-lossy-client-side.pcap
expect_streams $F 1
expect $F 'tcp.analysis.lost_segment' '>=' 5
expect $F 'tcp.analysis.duplicate_ack' '>=' 5
# the body has holes here, so tshark cannot reassemble the HTTP response
expect $F 'frame contains "HTTP/1.1 200 OK"' '>=' 1

F=ipv4-fragmented-download.pcap
# one connection (fragments have no tcp.stream of their own, so no expect_streams here)
expect $F 'tcp.stream > 0' == 0
expect $F 'ip.flags.mf==1 || ip.frag_offset>0' '>=' 300
expect $F 'http.response.code==200' == 3
expect $F 'tcp.analysis.flags' == 0

F=vxlan-tunnel-download.pcap
expect_streams $F 1
expect $F 'vxlan.vni == 42' == 77
expect $F 'http.response.code==200' == 2
expect $F 'tcp.analysis.flags' == 0

F=tcp-fast-open.pcap
expect_streams $F 4
expect $F 'tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.len==82' == 3
expect $F 'tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.ack==83' == 2
expect $F 'http.response.code==200' == 4
expect $F 'tcp.analysis.retransmission' == 1
expect $F 'tcp.analysis.flags' == 1

echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
