#!/usr/bin/python3
"""The message store benchmark's peer and client (tests/bench/msgstore_bench.sh).

  msgstore_py.py api URL USER PASSWORD SAMPLE_FILE QUERIES
      radlink's JSON API, as the console asks it: QUERIES searches each by
      patient, by accession and by a name prefix, and traces of an accession;
      p50/p99 of the engine's own time (search_ms, trace_ms) and of the round
      trip; then one search that no index covers (the scan).
  msgstore_py.py sqlite DUMP DB SAMPLE_FILE QUERIES [BACKUP]   (BACKUP: where
      the backup is written; DB.bak when not given)
      Python's sqlite3 holding the same messages with the same fields indexed:
      filled in transactions of 256 messages (WAL, synchronous=FULL: each
      commit durable, as radlink's ACK is), then the same questions, the scan
      (a LIKE over the raw text), a backup, an integrity check and a reopen.
SAMPLE_FILE holds message numbers, one a line, to ask about (made by the
shell script from the numbers it sent). Prints RESULT lines."""
import http.cookiejar
import json
import os
import random
import sqlite3
import statistics
import sys
import time
import urllib.parse
import urllib.request


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def report(name, server, wall):
    print("RESULT %s p50_ms=%.2f p99_ms=%.2f wall_p50_ms=%.2f wall_p99_ms=%.2f n=%d" % (
        name, pct(server, 50), pct(server, 99), pct(wall, 50), pct(wall, 99), len(server)))


def sample(path, n):
    nums = [int(x) for x in open(path).read().split()]
    rnd = random.Random(7)
    return [rnd.choice(nums) for _ in range(n)]


def keys_of(raw):
    """What radlink indexes, read as plainly as a script would."""
    segs = raw.split("\r")
    msh = segs[0].split("|")
    k = {"C": [msh[9]], "T": ["^".join(msh[8].split("^")[:2])], "S": [msh[2] + "\0" + msh[3]],
         "I": [], "A": [], "N": [], "U": []}
    for s in segs[1:]:
        f = s.split("|")
        if f[0] == "PID":
            for rep in f[3].split("~") if len(f) > 3 else []:
                c = rep.split("^")
                k["I"].append(c[0] + "\0" + (c[3].split("&")[0] if len(c) > 3 else ""))
            if len(f) > 5:
                c = f[5].split("^")
                k["N"].append((c[0] + "^" + (c[1] if len(c) > 1 else "")).upper())
        elif f[0] == "ORC":
            k["A"] += [f[i].split("^")[0] for i in (2, 3) if len(f) > i and f[i]]
        elif f[0] == "OBR":
            k["A"] += [f[i].split("^")[0] for i in (2, 3, 18) if len(f) > i and f[i]]
        elif f[0] == "ZDS" and len(f) > 1:
            k["U"].append(f[1].split("^")[0])
    return {kind: sorted(set(v for v in vals if v)) for kind, vals in k.items()}


def run_api(url, user, password, sample_file, queries):
    jar = http.cookiejar.CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    body = json.dumps({"user": user, "password": password}).encode()
    op.open(urllib.request.Request(url + "/api/login", body, {"Content-Type": "application/json"}))

    def get(path):
        t0 = time.perf_counter()
        with op.open(url + path) as r:
            d = json.load(r)
        return d, (time.perf_counter() - t0) * 1000.0

    nums = sample(sample_file, queries)
    for name, path, field in (
            ("radlink_patient", lambda i: "/api/messages?patient=%07u" % i, "search_ms"),
            ("radlink_accession", lambda i: "/api/messages?accession=A%u" % i, "search_ms"),
            ("radlink_name_prefix", lambda i: "/api/messages?" + urllib.parse.urlencode(
                {"name": ["DOE^J*", "SMITH^M*", "GARCIA^*", "NGUYEN^A*"][i % 4]}), "search_ms"),
            ("radlink_trace", lambda i: "/api/trace/A%u" % i, "trace_ms")):
        server, wall, found = [], [], 0
        for i in nums:
            d, ms = get(path(i))
            server.append(d[field])
            wall.append(ms)
            found += len(d.get("messages") or d.get("events") or [])
        if not found:
            sys.exit("%s found nothing: the sample names no message radlink holds" % name)
        report(name, server, wall)
    d, ms = get("/api/messages?" + urllib.parse.urlencode({"q": "PID-7=18000101", "limit": 1}))
    print("RESULT radlink_scan ms=%.1f wall_ms=%.1f scanned=%d" % (d["search_ms"], ms, d["scanned"]))


def dump_batches(dump, size):
    """The dump's messages (one a line), size at a time, read as they are
    used: ten million do not fit in memory as a list."""
    batch = []
    with open(dump, "rb") as f:
        for line in f:
            line = line.rstrip(b"\n")
            if line:
                batch.append(line)
                if len(batch) == size:
                    yield batch
                    batch = []
    if batch:
        yield batch


def run_sqlite(dump, db, sample_file, queries, bak_path):
    for f in (db, db + "-wal", db + "-shm", bak_path):
        if os.path.exists(f):
            os.unlink(f)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE msg (seq INTEGER PRIMARY KEY, recv INTEGER, status INTEGER, "
                "type TEXT, ctrl TEXT, app TEXT, fac TEXT, ack TEXT, raw BLOB)")
    con.execute("CREATE TABLE msg_key (kind TEXT, value TEXT, seq INTEGER, "
                "PRIMARY KEY (kind, value, seq)) WITHOUT ROWID")
    n = sum(len(b) for b in dump_batches(dump, 4096))
    tenth = max(1, n // 10)
    rates, mark, t_all = [], tenth, time.perf_counter()
    t_mark, seq_mark, seq = t_all, 0, 0
    for lines in dump_batches(dump, 256):
        con.execute("BEGIN")
        for raw in lines:
            seq += 1
            text = raw.decode("latin-1")
            k = keys_of(text)
            msh = text.split("\r")[0].split("|")
            ack = "MSH|^~\\&|RADLINK|RAD|%s|%s||ACK|RL%d|P|2.5.1\rMSA|AA|%s\r" % (
                msh[2], msh[3], seq, msh[9])
            con.execute("INSERT INTO msg VALUES (?,?,?,?,?,?,?,?,?)",
                        (seq, int(time.time() * 1e6), 1, msh[8], msh[9], msh[2], msh[3], ack, raw))
            con.executemany("INSERT OR IGNORE INTO msg_key VALUES (?,?,?)",
                            [(kind, v, seq) for kind, vals in k.items() for v in vals])
        con.execute("COMMIT")
        if seq >= mark or seq == n:
            now = time.perf_counter()
            rates.append("%.0f" % ((seq - seq_mark) / (now - t_mark)))
            t_mark, seq_mark = now, seq
            mark += tenth
    total = time.perf_counter() - t_all
    print("RESULT sqlite_fill msgs=%d seconds=%.1f msgs_per_s=%.0f tenths=%s" % (
        n, total, n / total, ",".join(rates)))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = os.path.getsize(db)
    print("RESULT sqlite_size bytes=%d bytes_per_msg=%.0f" % (size, size / n))

    def timed(sql, args):
        t0 = time.perf_counter()
        rows = con.execute(sql, args).fetchall()
        return rows, (time.perf_counter() - t0) * 1000.0

    page = ("SELECT m.seq, m.recv, m.status, m.type, m.ctrl FROM msg_key k JOIN msg m ON m.seq = k.seq "
            "WHERE k.kind = ? AND %s ORDER BY k.seq DESC LIMIT 50")
    nums = sample(sample_file, queries)
    for name, sql, args in (
            ("sqlite_patient", page % "k.value >= ? AND k.value < ?",
             lambda i: ("I", "%07u\0" % i, "%07u\1" % i)),
            ("sqlite_accession", page % "k.value = ?", lambda i: ("A", "A%u" % i)),
            ("sqlite_name_prefix", page % "k.value >= ? AND k.value < ?",
             lambda i: ("N",) + [("DOE^J", "DOE^K"), ("SMITH^M", "SMITH^N"), ("GARCIA^", "GARCIA_"),
                                 ("NGUYEN^A", "NGUYEN^B")][i % 4]),
            ("sqlite_trace", "SELECT m.* FROM msg_key k JOIN msg m ON m.seq = k.seq WHERE "
             "k.kind = 'A' AND k.value = ? ORDER BY k.seq", lambda i: ("A%u" % i,))):
        ms_all, found = [], 0
        for i in nums:
            rows, ms = timed(sql, args(i))
            ms_all.append(ms)
            found += len(rows)
        if not found:
            sys.exit("%s found nothing" % name)
        report(name, ms_all, ms_all)
    rows, ms = timed("SELECT seq FROM msg WHERE raw LIKE ? ORDER BY seq DESC LIMIT 1",
                     ("%|18000101|%",))
    print("RESULT sqlite_scan ms=%.1f" % ms)
    t0 = time.perf_counter()
    bak = sqlite3.connect(bak_path)
    con.backup(bak)
    bak.close()
    print("RESULT sqlite_backup seconds=%.2f" % (time.perf_counter() - t0))
    t0 = time.perf_counter()
    ok = con.execute("PRAGMA integrity_check").fetchone()[0]
    print("RESULT sqlite_check seconds=%.2f result=%s" % (time.perf_counter() - t0, ok))
    con.close()
    t0 = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute(page % "k.value = ?", ("A", "A%u" % nums[0])).fetchall()
    print("RESULT sqlite_reopen seconds=%.3f" % (time.perf_counter() - t0))
    con.close()


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "api":
        run_api(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    elif len(sys.argv) in (6, 7) and sys.argv[1] == "sqlite":
        run_sqlite(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]),
                   sys.argv[6] if len(sys.argv) == 7 else sys.argv[3] + ".bak")
    else:
        sys.exit(__doc__)
