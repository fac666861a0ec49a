#!/usr/bin/python3
"""Check a de-identified DICOM file against its original, by PS3.15 Table
E.1-1 as adapters/dicom/deid_table.tsv holds it (the table radlink's code is
generated from, read here on its own) and the choices the table leaves open
as adapters/dicom/deid_rules.h states them (which action of a combined one,
what cleaning takes out), written again here from that prose. Written
apart from radlink's code: pydicom reads both files.

  deid_check.py check TABLE ORIG OUT [--options "a b"] [--keep-private C]...
      every element of every data set, sequences included, against the
      table and the options; the File Meta Information; the attributes that
      say it was done; no original UID left anywhere
  deid_check.py mapping ORIG OUT [ORIG OUT]...
      de-identified with one secret: each original UID always became the
      same new UID, in every file, and two originals never became one
  deid_check.py differ ORIG OUT1 OUT2
      de-identified with two secrets: every replaced UID differs
  deid_check.py same ORIG OUT
      OUT's data set is ORIG's, element for element (nothing was changed)

Exit status 0, or 1 with every finding printed, each with its place
("ContentSequence[2]/DateTime (0040,A120): ...")."""
import re
import sys

import pydicom
from pydicom.tag import Tag

OPTIONS = ["retain-longitudinal-dates", "retain-patient-characteristics",
           "retain-device-identity", "retain-institution-identity", "retain-uids",
           "clean-descriptions"]
CODES = {  # CID 7050 (PS3.16)
    None: ("113100", "Basic Application Confidentiality Profile"),
    "retain-longitudinal-dates": ("113106", "Retain Longitudinal Temporal Information Full Dates Option"),
    "retain-patient-characteristics": ("113108", "Retain Patient Characteristics Option"),
    "retain-device-identity": ("113109", "Retain Device Identity Option"),
    "retain-institution-identity": ("113112", "Retain Institution Identity Option"),
    "retain-uids": ("113110", "Retain UIDs Option"),
    "clean-descriptions": ("113105", "Clean Descriptors Option"),
}
TEXT_VRS = {"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UT"}
# Written by the de-identification itself (PS3.15 E.1.1, E.2, E.3.6).
MARKS = {Tag(0x0012, 0x0062), Tag(0x0012, 0x0063), Tag(0x0012, 0x0064), Tag(0x0028, 0x0303)}
WORD_MIN = 2

findings = []


def finding(place, msg):
    findings.append(f"{place}: {msg}")


# ---- the table ----

class Table:
    def __init__(self, path):
        self.exact, self.masked = {}, []
        header = None
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                cells = line.split("\t")
                if header is None:
                    header = cells
                    assert header[3:] == OPTIONS, "the table's option columns changed"
                    continue
                tag, basic, opts = cells[0], cells[2], dict(zip(OPTIONS, cells[3:]))
                row = (basic, opts)
                if tag == "(gggg,eeee)":
                    self.masked.insert(0, (0x00010000, 0x00010000, row))
                elif "x" in tag:
                    hexes = tag[1:5] + tag[6:10]
                    value = int(hexes.replace("x", "0"), 16)
                    mask = int("".join("0" if c == "x" else "F" for c in hexes), 16)
                    self.masked.append((value, mask, row))
                else:
                    self.exact[int(tag[1:5] + tag[6:10], 16)] = row

    def action(self, tag, options):
        row = self.exact.get(int(tag))
        if row is None:
            row = next((r for v, m, r in self.masked if int(tag) & m == v), None)
        if row is None:
            return None
        basic, opts = row
        asked = {opts[o] for o in options if opts[o]}
        assert len(asked) <= 1, f"{tag}: options disagree"
        return asked.pop() if asked else basic


# Type 2 in the storage modules that have it (PS3.3 C.7.6.14): emptied, not removed.
TYPE2_SEQUENCES = {Tag(0x0040, 0x0555)}


def choose(tag, act, empty, seq):
    """deid_rules.h, dicom_deid_choose: radlink's choice among combined actions."""
    if act in ("X/Z", "X/Z/D") and seq and not empty and tag not in TYPE2_SEQUENCES:
        return "X"  # a Type 3 sequence, when present, holds an item
    if act == "X/Z":
        return "Z"
    if act == "X/D":
        return "D"
    if act in ("X/Z/D", "Z/D"):
        return "Z" if empty or seq else "D"
    if act == "X/Z/U*":
        return "Z" if empty else "K"
    return act


# ---- values ----

def text(elem):
    """The value as one string, values joined by backslashes."""
    v = elem.value
    if v is None:
        return ""
    if isinstance(v, (list, pydicom.multival.MultiValue)):
        return "\\".join(str(x) for x in v)
    if isinstance(v, bytes):
        return v.decode("latin-1")
    return str(v)


def empty(elem):
    if elem.VR == "SQ":
        return len(elem.value) == 0
    return elem.value is None or elem.value == "" or elem.value == b"" or elem.value == []


def well_known(uid):
    return uid.startswith("1.2.840.10008.") or uid in pydicom.uid.UID_dictionary


def uids(elem):
    return [u.strip("\0 ") for u in text(elem).split("\\")]


def name(elem, path):
    kw = elem.keyword or ("Private" if elem.tag.is_private else "Unknown")
    return f"{path}{kw} ({elem.tag.group:04X},{elem.tag.element:04X})"


# ---- cleaning (deid_rules.h, dicom_deid_clean: what "clean" takes out) ----

def identifiers(ds, options):
    words = []

    def walk(d):
        for e in d:
            if e.tag.is_private:
                continue
            if e.VR == "SQ":
                for item in e.value:
                    walk(item)
                continue
            v = text(e)
            if not v:
                continue
            if e.VR == "PN":
                words.extend(w.strip() for w in re.split(r"[\\^= ]", v))
            elif e.tag in (Tag(0x0010, 0x0020), Tag(0x0010, 0x1000), Tag(0x0008, 0x0050)) or (
                    e.tag == Tag(0x0008, 0x0080) and "retain-institution-identity" not in options):
                words.extend(w.strip() for w in v.split("\\"))
            elif e.tag == Tag(0x0010, 0x0030) and re.fullmatch(r"\d{8}", v.strip()):
                d8 = v.strip()
                y, m, dd = d8[:4], d8[4:6], d8[6:]
                words.extend([d8, f"{y}-{m}-{dd}", f"{y}/{m}/{dd}", f"{y}.{m}.{dd}", f"{dd}.{m}.{y}",
                              f"{dd}/{m}/{y}", f"{m}/{dd}/{y}", f"{dd}-{m}-{y}", f"{m}-{dd}-{y}"])
    walk(ds)
    return sorted({w for w in words if len(w.encode("latin-1", "replace")) >= WORD_MIN},
                  key=lambda w: (-len(w), w))


def is_word(c):
    return c.isascii() and c.isalnum() or not c.isascii()


def cleaned(value, words):
    s = value
    for w in words:
        i, lw = 0, w.lower()
        while i + len(w) <= len(s):
            before = i == 0 or not is_word(s[i - 1])
            after = i + len(w) == len(s) or not is_word(s[i + len(w)])
            if before and after and s[i:i + len(w)].lower() == lw:
                s = s[:i] + s[i + len(w):]
            else:
                i += 1
    return re.sub(" +", " ", s).strip(" ")


# ---- check ----

class Check:
    def __init__(self, table, options, keep, words):
        self.table, self.options, self.keep, self.words = table, options, keep, words
        self.replaced = {}  # original UID -> new UID
        self.originals = set()

    def private_kept(self, ds, tag):
        el = tag.element
        if 0x10 <= el <= 0xFF:
            creator = ds.get(tag)
        elif el >= 0x1000:
            creator = ds.get(Tag(tag.group, el >> 8))
        else:
            return False
        return creator is not None and text(creator).strip() in self.keep

    def uid_replaced(self, o, n, place):
        ov, nv = uids(o), uids(n)
        if len(ov) != len(nv):
            return finding(place, f"{len(ov)} UIDs became {len(nv)}")
        for a, b in zip(ov, nv):
            if not a or well_known(a):
                if a != b:
                    finding(place, f"well-known or empty UID {a!r} changed to {b!r}")
                continue
            if not re.fullmatch(r"2\.25\.(0|[1-9][0-9]{0,38})", b) or int(b[5:]) >= 1 << 128:
                finding(place, f"{b!r} is not a 2.25 UID of 128 bits")
            self.originals.add(a)
            if self.replaced.setdefault(a, b) != b:
                finding(place, f"{a} became {b} here and {self.replaced[a]} elsewhere")

    def element(self, o, n, act, place, clean):
        vr = o.VR
        if act == "X":
            if n is not None:
                finding(place, "present, the table removes it (X)")
            return
        if n is None:
            return finding(place, f"removed, the table says {act}")
        if act == "Z":
            if not empty(n):
                finding(place, f"has a value, the table empties it (Z): {text(n)[:60]!r}")
            return
        if vr == "SQ":
            if len(n.value) != len(o.value):
                return finding(place, f"{len(o.value)} items became {len(n.value)} ({act})")
            inner = clean or act in ("D", "C")
            for i, (oi, ni) in enumerate(zip(o.value, n.value)):
                self.dataset(oi, ni, f"{place}[{i + 1}]/", inner)
            return
        if act == "U" or (act == "D" and vr == "UI"):
            if vr == "UI":
                return self.uid_replaced(o, n, place)
            act = "D"
        if act == "D":
            if empty(n):
                finding(place, "empty, the table gives it a dummy value (D)")
            elif not empty(o) and n.value == o.value:
                finding(place, f"kept {text(o)[:60]!r}, the table replaces it (D)")
            return
        if act == "C" or (act is None and clean):
            if vr in TEXT_VRS:
                want = cleaned(text(o), self.words)
                if text(n) != want:
                    finding(place, f"cleaned to {text(n)!r}, expected {want!r}")
                return
        if n.value != o.value:  # K, C of a value that is not text, or not in the table
            finding(place, f"changed from {text(o)[:60]!r} to {text(n)[:60]!r} ({act or 'not in the table'})")

    def dataset(self, o, n, path, clean):
        overlays = {e.tag.group for e in o if e.tag.group & 0xFF00 == 0x6000 and e.tag.element == 0x3000}
        for e in o:
            place = name(e, path)
            if path == "" and e.tag in MARKS:
                continue
            ne = n.get(e.tag)
            if e.tag.is_private:
                if self.private_kept(o, e.tag):
                    self.element(e, ne, "K", place, clean)
                elif ne is not None:
                    finding(place, "a private element of a creator not kept is present")
                continue
            if e.tag.group in overlays and not (e.tag.group & 1):
                if ne is not None:
                    finding(place, "the overlay lost its data: its group must go")
                continue
            act = self.table.action(e.tag, self.options)
            if act is not None:
                act = choose(e.tag, act, empty(e), e.VR == "SQ")
            self.element(e, ne, act, place, clean)
        for e in n:
            if e.tag not in o and not (path == "" and e.tag in MARKS) and e.tag.element != 0:
                finding(name(e, path), "added")

    def marks(self, n):
        if n.get("PatientIdentityRemoved") is None or n.PatientIdentityRemoved != "YES":
            finding("PatientIdentityRemoved (0012,0062)", "not YES")
        want = [CODES[None]] + [CODES[o] for o in OPTIONS if o in self.options]
        have = [(i.get("CodeValue"), i.get("CodingSchemeDesignator"), i.get("CodeMeaning"))
                for i in n.get("DeidentificationMethodCodeSequence", [])]
        for value, meaning in want:
            if (value, "DCM", meaning) not in have:
                finding("DeidentificationMethodCodeSequence (0012,0064)",
                        f"no ({value}, DCM, {meaning!r}): has {have}")
        method = text(n["DeidentificationMethod"]) if "DeidentificationMethod" in n else ""
        if "PS3.15 Table E.1-1" not in method:
            finding("DeidentificationMethod (0012,0063)", f"does not name the profile: {method!r}")
        ltim = n.get("LongitudinalTemporalInformationModified")
        want_ltim = {"UNMODIFIED", "MODIFIED"} if "retain-longitudinal-dates" in self.options else {"REMOVED"}
        if ltim not in want_ltim:
            finding("LongitudinalTemporalInformationModified (0028,0303)", f"{ltim!r}, expected {want_ltim}")

    def leftovers(self, n, path=""):
        """No original UID that was replaced appears anywhere (a value that is
        not a UID, such as "0", may stand for a class as well), private
        blocks kept aside."""
        for e in n:
            if e.tag.is_private:
                continue
            if e.VR == "SQ":
                for i, item in enumerate(e.value):
                    self.leftovers(item, f"{name(e, path)}[{i + 1}]/")
            elif e.VR in ("UI", "LO", "SH", "LT", "ST", "UT", "UC"):
                for u in uids(e):
                    if u in self.originals and "." in u:
                        finding(name(e, path), f"the original UID {u} is still there")


def read(path):
    return pydicom.dcmread(path, force=True)


def check(argv):
    table, orig, out = Table(argv[0]), read(argv[1]), read(argv[2])
    options, keep, rest = [], [], argv[3:]
    while rest:
        if rest[0] == "--options":
            options = rest[1].split()
            unknown = [o for o in options if o not in OPTIONS]
            assert not unknown, f"unknown options {unknown}"
        elif rest[0] == "--keep-private":
            keep.append(rest[1])
        else:
            sys.exit(f"deid_check.py: unknown argument {rest[0]}")
        rest = rest[2:]
    c = Check(table, options, keep, identifiers(orig, options))
    c.dataset(orig, out, "", False)
    om, nm = orig.file_meta, out.file_meta
    # The file's Media Storage SOP Instance UID is written from the data set's
    # SOP Instance UID (DCMTK keeps them in step), de-identified or retained.
    media, place = Tag(0x0002, 0x0003), "file meta/MediaStorageSOPInstanceUID"
    if "SOPInstanceUID" in out and (media not in nm or nm[media].value != out.SOPInstanceUID):
        finding(place, f"not the SOP Instance UID {out.SOPInstanceUID}")
    if media in om and media in nm and "retain-uids" not in options:
        was = text(om[media]).strip("\0 ")
        if was and not well_known(was) and text(nm[media]) == was:
            finding(place, "the original's is still there")
    for kw in ("SourceApplicationEntityTitle", "SendingApplicationEntityTitle",
               "ReceivingApplicationEntityTitle", "PrivateInformationCreatorUID", "PrivateInformation"):
        if kw in nm:
            finding(f"file meta/{kw}", "the original's is still there")
    c.marks(out)
    if "retain-uids" not in options:
        c.leftovers(out)
    return c


def pairs_map(argv):
    seen, back = {}, {}
    for orig, out in zip(argv[0::2], argv[1::2]):
        c = Check(None, [], [], [])
        collect_uids(read(orig), read(out), "", c)
        for a, b in c.replaced.items():
            if seen.setdefault(a, b) != b:
                finding(out, f"{a} became {b}, and {seen[a]} in another file")
            if back.setdefault(b, a) != a:
                finding(out, f"{a} and {back[b]} both became {b}")
    if not seen:
        finding("mapping", "no UID was replaced")
    return len(seen)


def collect_uids(o, n, path, c):
    """Pair every replaced UID of o with the one at the same place in n."""
    for e in o:
        ne = n.get(e.tag)
        if ne is None:
            continue
        if e.VR == "SQ" and ne.VR == "SQ":
            for i, (oi, ni) in enumerate(zip(e.value, ne.value)):
                collect_uids(oi, ni, f"{name(e, path)}[{i + 1}]/", c)
        elif e.VR == "UI" and not e.tag.is_private:
            for a, b in zip(uids(e), uids(ne)):
                if a and not well_known(a) and a != b:
                    if c.replaced.setdefault(a, b) != b:
                        finding(name(e, path), f"{a} became {b} here and {c.replaced[a]} elsewhere")


def differ(argv):
    o = read(argv[0])
    c1, c2 = Check(None, [], [], []), Check(None, [], [], [])
    collect_uids(o, read(argv[1]), "", c1)
    collect_uids(o, read(argv[2]), "", c2)
    for a, b in c1.replaced.items():
        if c2.replaced.get(a) == b:
            finding("differ", f"{a} became {b} with both secrets")
    if not c1.replaced:
        finding("differ", "no UID was replaced")
    return len(c1.replaced)


def same(argv):
    o, n = read(argv[0]), read(argv[1])
    for e in o:
        ne = n.get(e.tag)
        if ne is None or ne.value != e.value:
            finding(name(e, ""), "changed")
    for e in n:
        if e.tag not in o and e.tag.element != 0:
            finding(name(e, ""), "added")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, argv = sys.argv[1], sys.argv[2:]
    if cmd == "check":
        c = check(argv)
        summary = f"{len(c.replaced)} UIDs replaced"
    elif cmd == "mapping":
        summary = f"{pairs_map(argv)} UIDs mapped one to one"
    elif cmd == "differ":
        summary = f"{differ(argv)} UIDs differ"
    elif cmd == "same":
        same(argv)
        summary = "unchanged"
    else:
        sys.exit(__doc__)
    if findings:
        print("\n".join(findings))
        print(f"{len(findings)} findings")
        sys.exit(1)
    print(f"ok: {summary}")


if __name__ == "__main__":
    main()
