#!/usr/bin/env python3
"""Which pages one commit of radlink's store rewrites, by sub-database.

usage: commit_pages.py DATA.MDB STRACE_OUTPUT
STRACE_OUTPUT: `strace -y -e trace=pwrite64,fdatasync` of the engine while
it stored one message (or a few). The last commit in it (the pwrite64
calls to data.mdb before its last fdatasync but one) is attributed: each
page it wrote is looked up in the file as it is now (LMDB's copy-on-write
leaves the last commit's pages in place), by walking every B-tree from the
newest meta page: the main tree, each named sub-database, the sub-trees of
keys with many values (DUPSORT, "(dup)"), overflow pages, and the free list.
Prints "PAGES total" then "PAGES name" lines, most first.

It reads LMDB's documented on-disk layout (lmdb.h / mdb.c of LMDB 0.9:
page header, node and MDB_db layouts) for a diagnosis no LMDB tool gives:
mdb_stat counts pages per database, not pages per commit."""
import re
import struct
import sys
from collections import Counter

PAGE = 4096
P_BRANCH, P_LEAF, P_OVERFLOW, P_LEAF2 = 0x01, 0x02, 0x04, 0x20
F_BIGDATA, F_SUBDATA, F_DUPDATA = 0x01, 0x02, 0x04
DB_ROOT = 40  # offset of md_root in MDB_db (48 bytes)
INVALID = 0xFFFFFFFFFFFFFFFF


def main():
    data = open(sys.argv[1], "rb").read()
    page = lambda n: data[n * PAGE:(n + 1) * PAGE]

    def meta(n):  # (txnid, FREE_DBI's MDB_db, MAIN_DBI's MDB_db)
        p = page(n)
        dbs = p[16 + 24:16 + 24 + 96]
        return struct.unpack_from("<Q", p, 16 + 24 + 96 + 8)[0], dbs[:48], dbs[48:]

    _, free_db, main_db = max(meta(0), meta(1))
    owner = {0: "meta", 1: "meta"}

    def walk(pg, name):
        if pg == INVALID or pg * PAGE >= len(data):
            return
        p = page(pg)
        flags, lower = struct.unpack_from("<HH", p, 10)
        owner[pg] = name
        if flags & (P_OVERFLOW | P_LEAF2):
            return
        for i in range((lower - 16) // 2):
            off = struct.unpack_from("<H", p, 16 + 2 * i)[0]
            lo, hi, fl, ksize = struct.unpack_from("<HHHH", p, off)
            if flags & P_BRANCH:
                walk(lo | hi << 16 | fl << 32, name)
                continue
            body = p[off + 8 + ksize:off + 8 + ksize + (lo | hi << 16)]
            if fl & F_BIGDATA:
                first = struct.unpack_from("<Q", body, 0)[0]
                count = struct.unpack_from("<I", page(first), 12)[0]
                for k in range(count):
                    owner[first + k] = name + " (overflow)"
            elif fl & F_SUBDATA and not fl & F_DUPDATA and name == "main":
                walk(struct.unpack_from("<Q", body, DB_ROOT)[0],
                     p[off + 8:off + 8 + ksize].decode("latin1"))
            elif fl & F_SUBDATA and fl & F_DUPDATA:
                walk(struct.unpack_from("<Q", body, DB_ROOT)[0], name + " (dup)")

    walk(struct.unpack_from("<Q", main_db, DB_ROOT)[0], "main")
    walk(struct.unpack_from("<Q", free_db, DB_ROOT)[0], "free list")

    commits, cur = [], []
    for line in open(sys.argv[2]):
        if "fdatasync(" in line:
            commits.append(cur)
            cur = []
        m = re.search(r"pwrite64\(\d+<[^>]*data\.mdb>, .*, (\d+), (\d+)\) += \d+$", line)
        if m and int(m.group(1)) >= PAGE:
            cur.append((int(m.group(2)) // PAGE, int(m.group(1)) // PAGE))
    commits = [c for c in commits if c]
    if not commits:
        sys.exit("no commit in " + sys.argv[2])
    pages = Counter()
    for first, n in commits[-1]:
        for k in range(n):
            pages[owner.get(first + k, "(no longer in use)")] += 1
    print("PAGES", sum(pages.values()), "total")
    for name, n in pages.most_common():
        print("PAGES", n, name)


main()
