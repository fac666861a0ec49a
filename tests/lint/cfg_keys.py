#!/usr/bin/env python3
"""The configuration's keys are declared once, in the table of
engine/cfg/keys.c; docs/configuration.md's table and the schema
(engine/cfg/config.xsd) must name the same elements and attributes.

  cfg_keys.py CFG_KEYS     CFG_KEYS: tests/lint/cfg_keys.c built, which
                           prints the table one row a line

The README's first column names a key by its element's full path from
<radlink>, then that element's attributes, each element of the path in
brackets: `<mllp><listen><tls cert key>`, `<jobs listen><worker-key public>`.
Exits 1 naming every key one of them has and another lacks.
"""
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

SRC = os.environ.get("SRC") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TABLE = "the table (engine/cfg/keys.c)"
README = "docs/configuration.md"
SCHEMA = "engine/cfg/config.xsd"
XS = "{http://www.w3.org/2001/XMLSchema}"
GROUP = re.compile(r"<([A-Za-z][\w.-]*)((?:\s+[A-Za-z][\w.-]*)*)\s*>")


def notation(elem, attr=None):
    """mllp/listen/tls + cert -> <mllp><listen><tls cert>"""
    parts = elem.split("/")
    last = parts[-1] + (" " + attr if attr else "")
    return "".join(f"<{p}>" for p in parts[:-1]) + f"<{last}>"


def from_table(binary):
    out = subprocess.run([binary], check=True, capture_output=True, text=True).stdout
    elems, attrs = set(), set()
    for line in out.splitlines():
        elem, attr = line.split("\t")[:2]
        if attr:
            attrs.add((elem, attr))
        else:
            elems.add(elem)
    return elems, attrs


def from_readme(path, problems):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^#{1,2} Configuration\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not m:
        problems.append(f"{README}: no '## Configuration' section")
        return set(), set()
    first_line = text[:m.start(1)].count("\n") + 1
    elems, attrs = set(), set()
    for no, line in enumerate(m.group(1).split("\n"), first_line):
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1].strip()
        code = cell[1:-1] if len(cell) > 1 and cell.endswith("`") else ""
        pos, path = 0, []
        for g in GROUP.finditer(code):
            if g.start() != pos:
                break
            path.append(g.group(1))
            elems.add("/".join(path))
            attrs.update(("/".join(path), a) for a in g.group(2).split())
            pos = g.end()
        if not code or pos != len(code):
            problems.append(f"{README}:{no}: cannot read the key {cell}: write it as "
                            "`<element><element attribute attribute>` from <radlink> down")
    return elems, attrs


def from_schema(path):
    root = ET.parse(path).getroot()
    top = root.find(f"{XS}element[@name='radlink']")
    named = {t.get("name"): t for t in root.findall(f"{XS}complexType")}
    elems, attrs = set(), set()

    def children(group):
        """The elements of a sequence, all or choice, through nested ones."""
        for node in group:
            if node.tag == f"{XS}element":
                yield node
            elif node.tag in (f"{XS}sequence", f"{XS}choice", f"{XS}all"):
                yield from children(node)

    def walk(el, prefix):
        ct = el.find(f"{XS}complexType")
        if ct is None:  # a named type (<xs:element type="dicom-node">)
            ct = named.get(el.get("type") or "")
        if ct is None:
            return
        for a in ct.findall(f"{XS}attribute"):
            attrs.add((prefix, a.get("name")))
        for child in children(ct):
            p = f"{prefix}/{child.get('name')}" if prefix else child.get("name")
            elems.add(p)
            walk(child, p)

    walk(top, "")
    return elems, attrs


def compare(table, other, where, lacks, has, problems):
    """Every key one of table and other names and the other does not; an
    element is named on its own only when no attribute of it is."""
    (t_elems, t_attrs), (o_elems, o_attrs) = table, other
    named = set()
    for e, a in sorted(t_attrs - o_attrs):
        problems.append(f"{where} {lacks} {notation(e, a)}, a key of {TABLE}")
        named.add(e)
    for e, a in sorted(o_attrs - t_attrs):
        problems.append(f"{where} {has} {notation(e, a)}, which is not a key of {TABLE}")
        named.add(e)
    for e in sorted((t_elems - o_elems) - named):
        problems.append(f"{where} {lacks} the element {notation(e)}, an element of {TABLE}")
    for e in sorted((o_elems - t_elems) - named):
        problems.append(f"{where} {has} the element {notation(e)}, which is not one of {TABLE}")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = []
    table = from_table(sys.argv[1])
    readme = from_readme(os.path.join(SRC, README), problems)
    compare(table, readme, f"{README} (## Configuration)", "does not document", "documents",
            problems)
    compare(table, from_schema(os.path.join(SRC, SCHEMA)), SCHEMA, "does not allow", "allows",
            problems)
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"ok: {len(table[1])} attributes of {len(table[0])} elements, the same in {TABLE}, "
          f"{README} and {SCHEMA}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
