#!/usr/bin/python3
"""The de-identification benchmark's instances and the peer a user would
otherwise write: a pydicom script applying the same Basic Profile.

  deid_py.py gen CT_SMALL DIR N     N synthetic CT instances (pydicom's
                                    CT_small with DOE^JANE<n>, ten studies,
                                    new UIDs) and DIR/list naming them
  deid_py.py run TABLE LIST OUTDIR SECRET
                                    de-identify each file LIST names into
                                    OUTDIR, printing "RESULT mode=python ..."

The peer, written plainly: for each file, each element at every depth is
removed, emptied or replaced as Table E.1-1 (adapters/dicom/deid_table.tsv)
says, combined actions taken as radlink takes them, private elements
removed, UIDs replaced by 2.25 and the HMAC-SHA256 of the secret; then
Patient Identity Removed and the method are set."""
import hashlib
import hmac
import os
import sys
import time

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import UID_dictionary

DUMMY = {"DA": "19000101", "TM": "000000", "DT": "19000101000000", "AS": "000Y", "DS": "0",
         "IS": "0", "PN": "ANONYMIZED", "LO": "ANONYMIZED", "SH": "ANONYMIZED", "CS": "ANONYMIZED",
         "AE": "ANONYMIZED", "LT": "ANONYMIZED", "ST": "ANONYMIZED", "UT": "ANONYMIZED",
         "UC": "ANONYMIZED"}


def gen(ct_small, out_dir, n):
    src = pydicom.dcmread(ct_small)
    root = "1.2.826.0.1.3680043.8.498.78."  # a test root: no real instance
    with open(f"{out_dir}/list", "w") as lst:
        for i in range(n):
            study = i % 10
            src.PatientName = f"DOE^JANE{study}"
            src.PatientID = f"PID{study:05d}"
            src.StudyInstanceUID = f"{root}{study}"
            src.SeriesInstanceUID = f"{root}{study}.1"
            src.SOPInstanceUID = f"{root}{study}.1.{i}"
            src.file_meta.MediaStorageSOPInstanceUID = src.SOPInstanceUID
            src.InstanceNumber = i
            path = f"{out_dir}/ct{i:04d}.dcm"
            src.save_as(path)
            lst.write(path + "\n")


def load_table(path):
    exact, masked = {}, []
    header = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.rstrip("\n").split("\t")
            if header is None:
                header = cells
                continue
            tag, act = cells[0], cells[2]
            if tag.startswith("(gggg"):
                continue  # private: every private element goes
            hexes = tag[1:5] + tag[6:10]
            if "x" in hexes:
                masked.append((int(hexes.replace("x", "0"), 16),
                               int("".join("0" if c == "x" else "F" for c in hexes), 16), act))
            else:
                exact[int(hexes, 16)] = act
    return exact, masked


class Peer:
    def __init__(self, table, secret):
        self.exact, self.masked = table
        self.secret = secret

    def action(self, tag):
        act = self.exact.get(tag)
        if act is None:
            act = next((a for v, m, a in self.masked if tag & m == v), None)
        return act

    def uid(self, value):
        if not value or value.startswith("1.2.840.10008.") or value in UID_dictionary:
            return value
        mac = hmac.new(self.secret, value.encode(), hashlib.sha256).digest()
        return "2.25." + str(int.from_bytes(mac[:16], "big"))

    def dataset(self, ds):
        for elem in list(ds):
            tag = int(elem.tag)
            if elem.tag.is_private:
                del ds[elem.tag]
                continue
            act = self.action(tag)
            if act is None:
                if elem.VR == "SQ":
                    for item in elem.value:
                        self.dataset(item)
                continue
            seq = elem.VR == "SQ"
            empty = elem.value in (None, "", b"", []) or (seq and len(elem.value) == 0)
            if act in ("X/Z", "X/Z/D") and seq and not empty and tag != 0x00400555:
                act = "X"
            elif act == "X/Z":
                act = "Z"
            elif act == "X/D":
                act = "D"
            elif act in ("X/Z/D", "Z/D"):
                act = "Z" if empty or seq else "D"
            elif act == "X/Z/U*":
                act = "Z" if empty else "K"
            if act == "X":
                del ds[elem.tag]
            elif act == "Z":
                elem.value = Sequence() if seq else ""
            elif act == "U" or (act == "D" and elem.VR == "UI"):
                if elem.VM > 1:
                    elem.value = [self.uid(v) for v in elem.value]
                else:
                    elem.value = self.uid(elem.value)
            elif seq:  # K, D, C: the items, each de-identified
                for item in elem.value:
                    self.dataset(item)
            elif act == "D":
                elem.value = DUMMY.get(elem.VR, 0 if elem.VR in ("US", "SS", "UL", "SL", "FL", "FD") else b"")
            # K and C of a value that is not a sequence: kept (no clean-descriptions here)

    def file(self, src, dst):
        ds = pydicom.dcmread(src)
        self.dataset(ds)
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = "PS3.15 Table E.1-1 Basic Application Confidentiality Profile"
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator = "113100", "DCM"
        code.CodeMeaning = "Basic Application Confidentiality Profile"
        ds.DeidentificationMethodCodeSequence = Sequence([code])
        ds.LongitudinalTemporalInformationModified = "REMOVED"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        for kw in ("SourceApplicationEntityTitle", "SendingApplicationEntityTitle",
                   "ReceivingApplicationEntityTitle", "PrivateInformationCreatorUID", "PrivateInformation"):
            if kw in ds.file_meta:
                delattr(ds.file_meta, kw)
        ds.save_as(dst)


def run(table, lst, out_dir, secret_path):
    with open(secret_path, "rb") as f:
        peer = Peer(load_table(table), f.read())
    with open(lst) as f:
        files = [l.strip() for l in f if l.strip()]
    t0 = time.monotonic()
    for path in files:
        peer.file(path, os.path.join(out_dir, os.path.basename(path)))
    print(f"RESULT mode=python instances={len(files)} seconds={time.monotonic() - t0:.3f}")


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "gen":
        gen(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 6 and sys.argv[1] == "run":
        run(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
