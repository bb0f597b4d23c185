#!/usr/bin/env python3
"""Load tcpscope's NDJSON (several captures) and Zeek logs into DuckDB and check the
answers of a few queries against the same numbers computed here in plain Python.

usage: duckdb_check.py NDJSON_DIR ZEEK_DIR...
Exit 0: every answer matched; 1: a mismatch (printed); 3: the duckdb module is missing.
Run by tests/downstream.rs; docs/guide.md shows the same queries.
"""
import glob
import json
import math
import os
import sys
from collections import Counter

try:
    import duckdb
except ImportError as e:
    print(f"duckdb cannot be imported ({e}): pip install duckdb", file=sys.stderr)
    sys.exit(3)

failures = []


def same(what, got, want):
    if got != want:
        failures.append(f"{what}: duckdb says {got!r}, plain Python says {want!r}")
    else:
        print(f"ok  {what}: {got!r}")


def p95(values):
    """Nearest rank: the ceil(0.95 n)-th smallest (DuckDB's quantile_disc)."""
    v = sorted(values)
    return v[math.ceil(0.95 * len(v)) - 1] if v else None


def per_app(conns):
    out = {}
    for c in conns:
        out[c["app"]] = out.get(c["app"], 0) + c["payload_bytes"]["client"] + c["payload_bytes"]["server"]
    return out


ndjson_dir, zeek_dirs = sys.argv[1], sys.argv[2:]
files = sorted(glob.glob(os.path.join(ndjson_dir, "*.ndjson")))
conns, summaries = [], []
for f in files:
    for line in open(f, encoding="utf-8"):
        rec = json.loads(line)
        (conns if rec["type"] == "connection" else summaries).append(rec)
exchanges = [x for c in conns for x in c.get("http", [])]

con = duckdb.connect()
src = f"read_json_auto('{ndjson_dir}/*.ndjson', format='newline_delimited', union_by_name=true, sample_size=-1)"
con.execute(f"CREATE VIEW t AS SELECT * FROM {src}")
con.execute("CREATE VIEW conns AS SELECT * FROM t WHERE type = 'connection'")
con.execute("CREATE VIEW http AS SELECT unnest(http) AS x FROM conns WHERE http IS NOT NULL")

# Every summary line carries the schema version.
same("schema of every summary", con.execute("SELECT list(DISTINCT schema) FROM t WHERE type = 'summary'").fetchone()[0],
     sorted({s["schema"] for s in summaries}))
same("summary lines", con.execute("SELECT count(*) FROM t WHERE type = 'summary'").fetchone()[0], len(files))
same("connections per conn_state",
     dict(con.execute("SELECT conn_state, count(*) FROM conns GROUP BY ALL").fetchall()),
     dict(Counter(c["conn_state"] for c in conns)))
same("connections = sum of capture.connections",
     con.execute("SELECT count(*) FROM conns").fetchone()[0],
     sum(s["capture"]["connections"] for s in summaries))
same("HTTP responses per status",
     dict(con.execute("SELECT x.response.status, count(*) FROM http WHERE x.response IS NOT NULL GROUP BY ALL").fetchall()),
     dict(Counter(x["response"]["status"] for x in exchanges if x.get("response"))))
same("p95 TTFB (ms)",
     con.execute("SELECT quantile_disc(x.ttfb_ms, 0.95) FROM http").fetchone()[0],
     p95([x["ttfb_ms"] for x in exchanges if x.get("ttfb_ms") is not None]))
same("payload bytes per app",
     dict(con.execute("SELECT app, sum(payload_bytes.client + payload_bytes.server) FROM conns GROUP BY ALL").fetchall()),
     per_app(conns))


def zeek_view(name, path):
    fields = next(l for l in open(path, encoding="utf-8") if l.startswith("#fields")).rstrip("\n").split("\t")[1:]
    cols = ", ".join(f"'{f}': 'VARCHAR'" for f in fields)
    con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_csv('{path}', delim='\t', comment='#', "
            f"header=false, nullstr='-', auto_detect=false, quote='', escape='', columns={{{cols}}})")


zeek_conn, zeek_http = [], []
for i, d in enumerate(zeek_dirs):
    for kind, acc in (("conn", zeek_conn), ("http", zeek_http)):
        zeek_view(f"{kind}{i}", os.path.join(d, f"{kind}.log"))
        acc.append(f"SELECT * FROM {kind}{i}")
con.execute("CREATE VIEW zconn AS " + " UNION ALL ".join(zeek_conn))
con.execute("CREATE VIEW zhttp AS " + " UNION ALL ".join(zeek_http))

same("conn.log: connections per conn_state (= the NDJSON's)",
     dict(con.execute("SELECT conn_state, count(*) FROM zconn GROUP BY ALL").fetchall()),
     dict(Counter(c["conn_state"] for c in conns)))
same("http.log: statuses (= the NDJSON's)",
     dict(con.execute("SELECT CAST(status_code AS INTEGER), count(*) FROM zhttp WHERE status_code IS NOT NULL GROUP BY ALL").fetchall()),
     dict(Counter(x["response"]["status"] for x in exchanges if x.get("response"))))
same("http.log joins conn.log on uid",
     con.execute("SELECT count(*) FROM zhttp h JOIN zconn c USING (uid)").fetchone()[0], len(exchanges))
same("conn.log packets", con.execute("SELECT sum(CAST(orig_pkts AS BIGINT) + CAST(resp_pkts AS BIGINT)) FROM zconn").fetchone()[0],
     sum(c["packets"]["client"] + c["packets"]["server"] for c in conns))

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print(f"all DuckDB answers match ({len(files)} NDJSON files, {len(conns)} connections, {len(exchanges)} exchanges)")
