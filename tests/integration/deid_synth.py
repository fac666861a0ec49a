#!/usr/bin/python3
"""Write the instances the de-identification test needs besides pydicom's
own files, all with synthetic identities (DOE^JANE):

  deid_synth.py TABLE CT_SMALL DIR

  DIR/synthetic.dcm  every attribute Table E.1-1 names (repeating groups
                     once), each with a value; free text holding the
                     patient's name, IDs, birth date and accession number;
                     sequences whose items reference the instance; private
                     blocks of a creator to keep and of others; an overlay
                     and a curve; an Original Attributes Sequence
  DIR/ct_oas.dcm     CT_small with an Original Attributes Sequence
  DIR/xa.dcm         CT_small as XA without Burned In Annotation
  DIR/bia_yes.dcm    CT_small with Burned In Annotation YES
"""
import sys

import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian

ROOT = "1.2.826.0.1.3680043.8.498.77."  # a test root: no real instance
SOP, STUDY, SERIES, FOR = ROOT + "1", ROOT + "2", ROOT + "3", ROOT + "4"
CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"

# PS3.6 VRs of the rows pydicom's dictionary (2.3) does not know yet.
NEWER = {
    0x00080017: "UI", 0x00080019: "UI", 0x00081088: "LO", 0x00120022: "LO", 0x00120023: "SQ",
    0x00120032: "LO", 0x00120041: "LO", 0x00120043: "LO", 0x00120055: "LO", 0x00120073: "LO",
    0x00181204: "DA", 0x00181205: "DA", 0x00200027: "LO", 0x30020121: "SH", 0x30020123: "LT",
    0x3006002D: "DT", 0x3006002E: "DT", 0x3006004D: "SQ", 0x3006004E: "SQ", 0x003A0329: "ST",
    0x003A032B: "ST",
}
# Known identities: the rows that hold them get them; every other row a value of its VR.
FIXED = {
    0x00100010: "DOE^JANE^MARIE", 0x00100020: "PID12345", 0x00100030: "19700101",
    0x00080050: "ACC98765", 0x00101000: "OTHER777", 0x00080080: "GENERAL HOSPITAL",
    0x00080018: SOP, 0x0020000D: STUDY, 0x0020000E: SERIES, 0x00200052: FOR,
    0x00100040: "F", 0x00101010: "054Y",
    0x0040A124: "1.2.840.10008.1.4.1.1",  # a well-known frame of reference: never replaced
}
NOTE = "Seen: Jane Doe (PID12345), born 01/01/1970, accession ACC98765, by ROE^RICHARD."
BY_VR = {
    "AE": "DOE_JANE_AE", "CS": "DOE JANE", "SH": "DOE PID12345", "LO": "CT for DOE JANE PID12345 1970-01-01",
    "ST": NOTE, "LT": NOTE, "UT": NOTE, "UC": NOTE, "PN": "ROE^RICHARD", "DA": "20240102",
    "TM": "101112.5", "DT": "20240102101112", "AS": "054Y", "DS": "1.5", "IS": "7",
    "UR": "http://example.com/doe", "US": 3, "SS": 3, "UL": 3, "SL": 3, "UV": 3, "SV": 3,
    "FL": 1.5, "FD": 1.5, "AT": Tag(0x0010, 0x0010), "OB": b"\x01\x02\x03\x04",
    "OW": b"\x01\x02\x03\x04", "OF": b"\x00\x00\xc0\x3f", "OD": b"\x00" * 6 + b"\xf8\x3f",
    "OL": b"\x01\x00\x00\x00", "OV": b"\x01" + b"\x00" * 7, "UN": b"\x01\x02",
}


def item():
    """What an item of a sequence the table names holds: a code, a reference
    to this instance, a date, a person."""
    it = Dataset()
    it.CodeValue = "C123"
    it.CodingSchemeDesignator = "99RAD"
    it.CodeMeaning = "Meaning for DOE JANE"
    it.ReferencedSOPClassUID = CT_STORAGE
    it.ReferencedSOPInstanceUID = SOP
    it.add_new(0x0040A121, "DA", "20240102")
    it.add_new(0x0040A123, "PN", "DOE^JANE")
    return it


def vr_of(tag):
    vr = NEWER.get(tag)
    if vr is None:
        vr = dictionary_VR(tag).split(" or ")[0]
    return vr


def table_rows(path):
    with open(path, encoding="utf-8") as f:
        lines = [l.rstrip("\n").split("\t") for l in f if l.strip() and not l.startswith("#")]
    return lines[1:]


def synthetic(table, out):
    ds = Dataset()
    n = 100
    for cells in table_rows(table):
        text = cells[0]
        if "x" in text or text.startswith(("(gggg", "(0000", "(0002")):
            continue  # repeating groups and private blocks below; command and meta groups are not a data set's
        tag = int(text[1:5] + text[6:10], 16)
        vr = vr_of(tag)
        if tag in FIXED:
            value = FIXED[tag]
        elif vr == "SQ":
            value = Sequence([item()])
        elif vr == "UI":
            n += 1
            value = ROOT + str(n)
        else:
            value = BY_VR[vr]
        ds.add_new(tag, vr, value)
    # The Original Attributes Sequence holds the values an earlier change replaced.
    orig = Dataset()
    mod = Dataset()
    mod.PatientName = "DOE^JANE"
    mod.PatientID = "PID12345"
    orig.ModifiedAttributesSequence = Sequence([mod])
    orig.AttributeModificationDateTime = "20240102101112"
    orig.ModifyingSystem = "OLDSYS"
    orig.SourceOfPreviousValues = ""
    orig.ReasonForTheAttributeModification = "COERCE"
    ds.OriginalAttributesSequence = Sequence([orig])
    # What makes it an image the de-identification takes.
    ds.SOPClassUID = CT_STORAGE
    ds.Modality = "CT"
    ds.BurnedInAnnotation = "NO"
    ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored, ds.HighBit = 4, 4, 8, 8, 7
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PixelRepresentation = 1, "MONOCHROME2", 0
    ds.PixelData = bytes(range(16))
    # An overlay (its data goes, so its group goes), one without data (stays), a curve.
    # The one without data is the first group, the one dciodvfy checks: its
    # findings are then the same before and after.
    for tag, vr, value in [(0x60020010, "US", 4), (0x60020011, "US", 4), (0x60020040, "CS", "G"),
                           (0x60020050, "SS", [1, 1]), (0x60020100, "US", 1), (0x60020102, "US", 0),
                           (0x60023000, "OW", b"\xff\x00"), (0x60024000, "LT", "DOE"),
                           (0x60000010, "US", 4), (0x60000011, "US", 4),
                           (0x50000005, "US", 1), (0x50003000, "OW", b"\x01\x00")]:
        ds.add_new(tag, vr, value)
    # Private blocks: a creator to keep (with a sequence whose items have creators of their own),
    # one to drop, an element with no creator.
    ds.add_new(0x00090010, "LO", "RADLINK TEST KEEP")
    ds.add_new(0x00091001, "LO", "kept private text")
    ds.add_new(0x00091002, "UI", "1.2.3.4.5.6")
    inner = Dataset()
    inner.PatientName = "DOE^JANE"
    inner.add_new(0x00110010, "LO", "RADLINK TEST KEEP")
    inner.add_new(0x00111001, "LO", "nested kept")
    inner.add_new(0x00110011, "LO", "RADLINK TEST DROP")
    inner.add_new(0x00111101, "LO", "nested dropped")
    ds.add_new(0x00091003, "SQ", Sequence([inner]))
    ds.add_new(0x00090011, "LO", "RADLINK TEST DROP")
    ds.add_new(0x00091101, "LO", "dropped")
    ds.add_new(0x00191001, "LO", "no creator")
    write(ds, out, SOP, "DOE_WS")


def write(ds, out, sop_uid, source_ae=None):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    if source_ae:
        meta.SourceApplicationEntityTitle = source_ae
    ds.file_meta = meta
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(out, write_like_original=False)


def variants(ct_small, out_dir):
    ds = pydicom.dcmread(ct_small)
    orig = Dataset()
    mod = Dataset()
    mod.PatientName = "DOE^JANE"
    mod.StudyDescription = "CHEST DOE"
    orig.ModifiedAttributesSequence = Sequence([mod])
    orig.AttributeModificationDateTime = "20240102101112"
    orig.ModifyingSystem = "OLDSYS"
    orig.SourceOfPreviousValues = ""
    orig.ReasonForTheAttributeModification = "CORRECT"
    ds.OriginalAttributesSequence = Sequence([orig])
    ds.save_as(f"{out_dir}/ct_oas.dcm")
    xa = pydicom.dcmread(ct_small)
    xa.Modality = "XA"
    if "BurnedInAnnotation" in xa:
        del xa.BurnedInAnnotation
    xa.save_as(f"{out_dir}/xa.dcm")
    yes = pydicom.dcmread(ct_small)
    yes.BurnedInAnnotation = "YES"
    yes.save_as(f"{out_dir}/bia_yes.dcm")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    table, ct_small, out_dir = sys.argv[1:]
    synthetic(table, f"{out_dir}/synthetic.dcm")
    variants(ct_small, out_dir)


if __name__ == "__main__":
    main()
