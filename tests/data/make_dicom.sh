#!/bin/sh
# Writes synthetic DICOM instances for the tests from a template dump:
#   make_dicom.sh OUT.dcm SOP_UID STUDY_UID SERIES_UID ACCESSION PATIENT_ID NAME [MODALITY] [DATE] [BIRTH] [SEX] [RP_ID]
# RP_ID goes into the Request Attributes Sequence, as a modality writes it.
# A 2x2 8-bit Secondary Capture image; no real patient data.
set -eu
out=$1
dump=$(mktemp)
cat >"$dump" <<DUMP
(0008,0005) CS [ISO_IR 192]
(0008,0016) UI [1.2.840.10008.5.1.4.1.1.7]
(0008,0018) UI [$2]
(0008,0020) DA [${9:-20261124}]
(0008,0030) TM [093000]
(0008,0050) SH [$5]
(0008,0060) CS [${8:-CT}]
(0010,0010) PN [$7]
(0010,0020) LO [$6]
(0010,0021) LO [GENHOSP]
(0010,0030) DA [${10:-19700412}]
(0010,0040) CS [${11:-F}]
(0020,000d) UI [$3]
(0020,000e) UI [$4]
$( [ -n "${12:-}" ] && printf '(0040,0275) SQ (Sequence with undefined length)\n(fffe,e000) na (Item with undefined length)\n(0040,1001) SH [%s]\n(fffe,e00d) na (ItemDelimitationItem)\n(fffe,e0dd) na (SequenceDelimitationItem)' "${12}" )
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US 2
(0028,0011) US 2
(0028,0100) US 8
(0028,0101) US 8
(0028,0102) US 7
(0028,0103) US 0
(7fe0,0010) OB 00\01\02\03
DUMP
dump2dcm -g +te "$dump" "$out" >/dev/null 2>&1 || { rm -f "$dump"; echo "dump2dcm failed for $out" >&2; exit 1; }
rm -f "$dump"
