#!/usr/bin/env python3
"""The code's shape, checked (docs/architecture.md says why each rule holds).

  functions   no function of engine/ or adapters/ over MAX_FUNCTION lines
  files       no source file over MAX_FILE lines (tables and embedded assets aside)
  cycles      no include cycle between two files: file A uses file B when A
              includes a header that declares something B defines; the
              graph of .c/.cc files has no cycle
  prefixes    every function a header of include/radlink declares starts with
              that module's prefix
  base        engine/base includes no header of a module above it
  layout      engine/ root holds main.c only; every folder under engine/ and
              adapters/ is named in docs/architecture.md

Run with a check's name to see only that one; exits 1 naming every finding.
"""
import os
import re
import sys

MAX_FUNCTION = 120
MAX_FILE = 900

SRC = os.environ.get("SRC") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# Files over MAX_FILE lines allowed, each with its reason.
FILE_EXEMPT = {
}

# Headers whose functions carry a prefix other than the header's name.
PREFIXES = {
    "util.h": ("rl_",), "err.h": ("rl_",), "limits.h": (), "limits_net.h": (), "log.h": ("log_",),
    "loop.h": ("loop_",), "cmd.h": ("cmdq_",), "digest.h": ("digest_",), "forward.h": ("forwarder_",),
    "metrics.h": ("metrics_",), "rec.h": ("rec_",), "xdoc.h": ("xdoc_",),
    "version.h": (), "audit_ship.h": ("audit_ship_",), "ctlsock.h": ("ctlsock_",),
    "receive.h": ("study_", "receiver_"), "pn.h": ("pn_",),
    # the audit module's events posted to the loop (posted.c), apart from
    # the trail they are stored in: the module's own prefix
    "audit_post.h": ("audit_",),
    # the recon module's study jobs (correct.c), apart from the
    # reconciliation that wants them: the module's own prefix
    "recon_job.h": ("recon_",),
    # the worklist's route action, apart from wl.h so that the worklist's
    # face (which the DICOM bridge includes) carries no route types
    "wl_hook.h": ("wl_",),
}

# The bottom layer and the headers it may include.
BASE_DIR = "engine/base"
BASE_HEADERS = {"util.h", "err.h", "log.h", "loop.h", "limits.h", "metrics.h", "rec.h",
                "xdoc.h", "cmdq.h", "version.h", "cidr.h", "limits_net.h"}

SOURCE_EXT = (".c", ".cc", ".h", ".hh")


def sources(top):
    out = []
    for d in ("engine", "adapters", "include"):
        for root, dirs, files in os.walk(os.path.join(top, d)):
            dirs[:] = [x for x in dirs if x not in ("node_modules", "console")]
            for f in files:
                if f.endswith(SOURCE_EXT):
                    out.append(os.path.relpath(os.path.join(root, f), top))
    return sorted(out)


def read(top, rel):
    with open(os.path.join(top, rel), encoding="utf-8", errors="replace") as f:
        return f.read().split("\n")


def strip_comments(text):
    """Comments and string literals blanked, lines kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + (c if j < n else ""))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


FUNC_START = re.compile(r"^(?:static\s+|extern\s+|inline\s+|const\s+|unsigned\s+|struct\s+|enum\s+)*"
                        r"[A-Za-z_][\w:<>,\s\*&]*?[\s\*&]([A-Za-z_][\w:~]*)\s*\(")


def functions(top, rel):
    """(name, first line, line count) of every function body at column 0."""
    lines = strip_comments("\n".join(read(top, rel))).split("\n")
    found, i = [], 0
    while i < len(lines):
        line = lines[i]
        m = FUNC_START.match(line)
        if m and not line.rstrip().endswith(";") and not line.startswith(("typedef", "#")):
            # the body opens at the first '{' at column 0 (or at the end of the signature)
            j = i
            while j < len(lines) and j < i + 12 and not lines[j].startswith("{") and \
                    not lines[j].rstrip().endswith("{") and not lines[j].rstrip().endswith(";"):
                j += 1
            if j < len(lines) and (lines[j].startswith("{") or lines[j].rstrip().endswith("{")) \
                    and not lines[j].rstrip().endswith(";"):
                k = j + 1
                while k < len(lines) and not lines[k].startswith("}"):
                    k += 1
                found.append((m.group(1), i + 1, k - i + 1))
                i = k + 1
                continue
        i += 1
    return found


def check_functions(top, files):
    bad = []
    for rel in files:
        if rel.endswith((".c", ".cc")) and not rel.startswith("include"):
            for name, line, n in functions(top, rel):
                if n > MAX_FUNCTION:
                    bad.append(f"{rel}:{line}: {name} is {n} lines (at most {MAX_FUNCTION})")
    return bad


def check_files(top, files):
    bad = []
    for rel in files:
        n = len(read(top, rel))
        if n > MAX_FILE and rel not in FILE_EXEMPT:
            bad.append(f"{rel}:1: {n} lines (at most {MAX_FILE})")
    return bad


DECL = re.compile(r"^(?!typedef|#|\s|static)[A-Za-z_][\w\s\*]*?[\s\*]\(?\*?([A-Za-z_]\w*)\)?\s*\(")
DATA_DECL = re.compile(r"^extern\s+[\w\s\*]+?\b([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*;")
DEF_DATA = re.compile(r"^(?!static|typedef|extern|#)(?:const\s+)?[A-Za-z_][\w\s\*]*?\b([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*=")


def declared(top, rel):
    """Names a header declares (functions and extern data)."""
    text = strip_comments("\n".join(read(top, rel)))
    names = set()
    for line in text.split("\n"):
        m = DECL.match(line)
        if m and not line.startswith("extern \"C\""):
            names.add(m.group(1))
        m = DATA_DECL.match(line)
        if m:
            names.add(m.group(1))
    names.discard("defined")
    return names


def defined(top, rel):
    names = {n for n, _, _ in functions(top, rel)}
    text = strip_comments("\n".join(read(top, rel)))
    for line in text.split("\n"):
        m = DEF_DATA.match(line)
        if m:
            names.add(m.group(1))
    return names


INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def resolve(top, rel, inc):
    for base in (os.path.dirname(rel), "include"):
        p = os.path.normpath(os.path.join(base, inc))
        if os.path.exists(os.path.join(top, p)):
            return p
    return None


def includes(top, rel, seen=None):
    """Headers rel includes, directly or through the project's own headers."""
    seen = set() if seen is None else seen
    for line in read(top, rel):
        m = INCLUDE.match(line)
        if not m:
            continue
        p = resolve(top, rel, m.group(1))
        if p and p not in seen:
            seen.add(p)
    return seen


def check_cycles(top, files):
    units = [f for f in files if f.endswith((".c", ".cc"))]
    heads = [f for f in files if f.endswith((".h", ".hh"))]
    defs = {u: defined(top, u) for u in units}
    decl = {h: declared(top, h) for h in heads}
    definer = {}  # name -> units defining it
    for u in units:
        for name in defs[u]:
            definer.setdefault(name, set()).add(u)
    graph = {}
    for u in units:
        graph[u] = set()
        for h in includes(top, u):
            for name in uses(top, u, decl.get(h, set())):
                graph[u] |= definer.get(name, set()) - {u}
    bad = []
    for comp in sccs(graph):
        if len(comp) > 1:
            bad.append("include cycle: " + " -> ".join(sorted(comp)))
    return bad


_use_cache = {}


def uses(top, rel, names):
    if rel not in _use_cache:
        text = strip_comments("\n".join(read(top, rel)))
        _use_cache[rel] = set(re.findall(r"[A-Za-z_]\w*", text))
    return _use_cache[rel] & names


def sccs(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def check_prefixes(top, files):
    bad = []
    for h in files:
        if not (h.startswith("include/radlink/") and h.endswith(".h")):
            continue
        base = os.path.basename(h)
        allowed = PREFIXES.get(base, (base[:-2] + "_",))
        text = strip_comments("\n".join(read(top, h)))
        for no, line in enumerate(text.split("\n"), 1):
            m = DECL.match(line)
            if not m:
                continue
            name = m.group(1)
            if allowed and not name.startswith(allowed):
                bad.append(f"{h}:{no}: {name} does not start with {' or '.join(allowed)}")
    return bad


def check_base(top, files):
    bad = []
    for rel in files:
        if not rel.startswith(BASE_DIR + "/"):
            continue
        for no, line in enumerate(read(top, rel), 1):
            m = INCLUDE.match(line)
            if m and os.path.basename(m.group(1)) not in BASE_HEADERS:
                bad.append(f"{rel}:{no}: the bottom layer includes {m.group(1)}")
    return bad


def check_layout(top, files):
    bad = []
    for f in os.listdir(os.path.join(top, "engine")):
        if os.path.isfile(os.path.join(top, "engine", f)) and f != "main.c":
            bad.append(f"engine/{f}: engine/ root keeps main.c only")
    doc_path = os.path.join(top, "docs", "architecture.md")
    doc = open(doc_path, encoding="utf-8").read() if os.path.exists(doc_path) else ""
    for d in ("engine", "adapters"):
        for root, dirs, _ in os.walk(os.path.join(top, d)):
            dirs[:] = [x for x in dirs if x != "node_modules"]
            rel = os.path.relpath(root, top)
            if rel != d and f"`{rel}/`" not in doc:
                bad.append(f"docs/architecture.md: folder `{rel}/` is not described")
    return bad


CHECKS = {
    "functions": check_functions, "files": check_files, "cycles": check_cycles,
    "prefixes": check_prefixes, "base": check_base, "layout": check_layout,
}


def main():
    only = sys.argv[1:] or list(CHECKS)
    files = sources(SRC)
    total = 0
    for name in only:
        found = CHECKS[name](SRC, files)
        for f in found:
            print(f"{name}: {f}")
        total += len(found)
        if not found:
            print(f"{name}: ok")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
