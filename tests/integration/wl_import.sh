#!/bin/sh
# `radlink wl import`: a site's worklist folder, as DCMTK's wlmscpfs serves it
# (one directory per AE title, .wl files written by dump2dcm, with and without
# a meta header) and DICOM dumps beside it, taken into radlink's worklist.
# The .wl files are queried with findscu from radlink and from wlmscpfs
# serving the same folder: the same steps come back. Each file that cannot
# be taken is named with its reason; nothing is written over without
# --replace. Once into a data directory no engine runs on (the store
# directly), once through the running engine.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"

W=$T/worklist
mkdir -p "$W/RADLINK"

# dump NAME [dump2dcm options]: the dump on stdin -> $W/RADLINK/NAME.wl
wl_file() {
    name=$1
    shift
    cat >"$T/$name.dump"
    dump2dcm "$@" "$T/$name.dump" "$W/RADLINK/$name.wl" 2>/dev/null || fail "dump2dcm $name"
}

# an ISO 8859-1 name, a code sequence, and an attribute the worklist does not serve
printf '%s\n' '(0008,0005) CS [ISO_IR 100]' '(0008,0020) DA [20261101]' \
    '(0008,0050) SH [IMP1]' "(0010,0010) PN [M$(printf '\334')LLER^J$(printf '\334')RGEN]" \
    '(0010,0020) LO [P901]' '(0010,0030) DA [19650303]' '(0010,0040) CS [M]' \
    '(0020,000d) UI [1.2.826.0.1.3680043.10.1.901]' '(0032,1060) LO [CT HEAD]' \
    '(0040,0100) SQ (Sequence with undefined length)' '(fffe,e000) na (Item)' \
    '(0008,0060) CS [CT]' '(0040,0001) AE [CT01]' '(0040,0002) DA [20261124]' \
    '(0040,0003) TM [081500]' '(0040,0007) LO [HEAD W/O]' \
    '(0040,0008) SQ (Sequence)' '(fffe,e000) na (Item)' '(0008,0100) SH [70450]' \
    '(0008,0102) SH [C4]' '(0008,0104) LO [CT HEAD W/O CONTRAST]' '(fffe,e00d) na' \
    '(fffe,e0dd) na' '(0040,0009) SH [S1]' '(fffe,e00d) na' '(fffe,e0dd) na' \
    '(0040,1001) SH [RP1]' '(0040,1003) SH [HIGH]' | wl_file imp1

# a data set without a meta header (dump2dcm -F), priority LOW
wl_file imp2 -F <<'DUMP'
(0008,0050) SH [IMP2]
(0010,0010) PN [DOE^JANE]
(0010,0020) LO [P902]
(0020,000d) UI [1.2.826.0.1.3680043.10.1.902]
(0040,0100) SQ
(fffe,e000) -
(0008,0060) CS [MR]
(0040,0001) AE [MR01]
(0040,0002) DA [20261124]
(0040,0003) TM [093000]
(0040,0009) SH [S2]
(fffe,e00d) -
(fffe,e0dd) -
(0040,1001) SH [RP2]
(0040,1003) SH [LOW]
DUMP

# a step two stations may perform (a multi-valued AE), the next day
wl_file imp3 <<'DUMP'
(0008,0050) SH  IMP3
(0010,0010) PN  ROE^RICHARD
(0010,0020) LO  P903
(0040,0100) SQ
(fffe,e000) -
(0008,0060) CS  CT
(0040,0001) AE  CT01\CT02
(0040,0002) DA  20261125
(0040,0003) TM  1000
(0040,0009) SH  S3
(fffe,e00d) -
(fffe,e0dd) -
(0040,1001) SH  RP3
DUMP

# dumps beside them (wlmscpfs reads only .wl files in RADLINK/): no procedure
# or step ID and no study UID (derived); two steps in one file; an optional
# description longer than DICOM allows (left out); and four files that cannot
# be taken
cat >"$W/imp5.dump" <<'DUMP'
# Dicom-Data-Set
(0008,0050) SH [IMP5]                                   #   4, 1 AccessionNumber
(0010,0010) PN [POE^EDGAR]                              #  10, 1 PatientName
(0010,0020) LO [P905]                                   #   4, 1 PatientID
(0040,0100) SQ (Sequence with explicit length #=1)      #   0, 1 ScheduledProcedureStepSequence
  (fffe,e000) na (Item with explicit length #=3)        #   0, 1 Item
    (0008,0060) CS [US]                                 #   2, 1 Modality
    (0040,0001) AE [US01]                               #   4, 1 ScheduledStationAETitle
    (0040,0002) DA [20261130]                           #   8, 1 ScheduledProcedureStepStartDate
  (fffe,e00d) na (ItemDelimitationItem for re-encoding) #   0, 0 ItemDelimitationItem
(fffe,e0dd) na (SequenceDelimitationItem for re-encod.) #   0, 0 SequenceDelimitationItem
DUMP
cat >"$W/imp6.dump" <<'DUMP'
(0008,0050) SH [IMP6]
(0010,0010) PN [LEE^KIM]
(0010,0020) LO [P906]
(0040,0100) SQ
(fffe,e000) -
(0008,0060) CS [NM]
(0040,0002) DA [20261130]
(0040,0009) SH [S6A]
(fffe,e00d) -
(fffe,e000) -
(0008,0060) CS [NM]
(0040,0002) DA [20261201]
(0040,0009) SH [S6B]
(fffe,e00d) -
(fffe,e0dd) -
(0040,1001) SH [RP6]
DUMP
long=$(printf 'X%.0s' $(seq 1 80))
cat >"$W/imp7.dump" <<DUMP
(0008,0050) SH [IMP7]
(0010,0010) PN [GARCIA^LUIS]
(0010,0020) LO [P907]
(0032,1060) LO [$long]
(0040,0100) SQ
(fffe,e000) -
(0008,0060) CS [XA]
(0040,0002) DA [20261130]
(0040,0009) SH [S7]
(fffe,e00d) -
(fffe,e0dd) -
(0040,1001) SH [RP7]
DUMP
cat >"$W/bad_nopid.dump" <<'DUMP'
(0008,0050) SH [BAD1]
(0010,0010) PN [NOBODY^KNOWN]
(0040,0100) SQ
(fffe,e000) -
(0040,0002) DA [20261130]
(fffe,e00d) -
(fffe,e0dd) -
DUMP
printf '(0008,0050) SH [BAD2]\n(0010,0010) PN [DOE^JOHN]\n(0010,0020 LO [P908]\n' >"$W/bad_syntax.dump"
cat >"$W/bad_longid.dump" <<DUMP
(0008,0050) SH [BAD3]
(0010,0010) PN [DOE^JOHN]
(0010,0020) LO [$long]
(0040,0100) SQ
(fffe,e000) -
(0008,0060) CS [CT]
(0040,0002) DA [20261130]
(fffe,e00d) -
(fffe,e0dd) -
DUMP
printf '\001\002\000\377binary\000' >"$W/bad_binary.bin"
: >"$W/RADLINK/lockfile"

query all <<'DUMP'
(0008,0050) SH []
(0010,0010) PN []
(0010,0020) LO []
(0040,0100) SQ
(fffe,e000) -
(0008,0060) CS []
(0040,0001) AE []
(0040,0002) DA []
(0040,0009) SH []
(fffe,e00d) -
(fffe,e0dd) -
(0040,1001) SH []
(0040,1003) SH []
DUMP
query station_ct02 <<'DUMP'
(0008,0050) SH []
(0040,0100) SQ
(fffe,e000) -
(0040,0001) AE [CT02]
(0040,0009) SH []
(fffe,e00d) -
(fffe,e0dd) -
DUMP
query ct <<'DUMP'
(0008,0050) SH []
(0040,0100) SQ
(fffe,e000) -
(0008,0060) CS [CT]
(0040,0001) AE []
(0040,0009) SH []
(fffe,e00d) -
(fffe,e0dd) -
DUMP
query on_24th <<'DUMP'
(0008,0005) CS [ISO_IR 100]
(0008,0050) SH []
(0010,0010) PN []
(0040,0100) SQ
(fffe,e000) -
(0040,0002) DA [20261124]
(0040,0009) SH []
(fffe,e00d) -
(fffe,e0dd) -
DUMP
query nm <<'DUMP'
(0008,0050) SH []
(0020,000d) UI []
(0040,0100) SQ
(fffe,e000) -
(0008,0060) CS [NM]
(0040,0009) SH []
(fffe,e00d) -
(fffe,e0dd) -
(0040,1001) SH []
DUMP

note "no engine: one file straight into the store; a dry run writes nothing"
run_rc "$RADLINK" wl import --data "$T/var" --dry-run "$W/imp5.dump"
expect_rc 0 "dry run"
expect_has "$OUT" "imp5.dump: accession IMP5 procedure IMP5 step IMP5 would be written" "dry run"
expect_has "$OUT" "(a dry run: nothing written)" "dry run summary"
run_rc "$RADLINK" wl import --data "$T/var" "$W/imp5.dump"
expect_rc 0 "one file, no engine"
expect_has "$OUT" "imp5.dump: warning: RequestedProcedureID taken from the accession number" "derived IDs"
expect_has "$OUT" "imp5.dump: accession IMP5 procedure IMP5 step IMP5 written" "no engine"
expect_has "$OUT" "1 file read: 1 entry offered to the worklist, 0 not taken" "summary"
run_rc "$RADLINK" wl list --data "$T/var"
expect_line "$OUT" '^IMP5 +IMP5 +IMP5 +20261130 +US +US01 +P905 +SCHEDULED +POE\^EDGAR' "wl list"

note "through the running engine: the whole folder"
start_engine
run_rc "$RADLINK" wl import --data "$T/var" "$W"
expect_rc 1 "a folder with files that cannot be taken"
printf '%s\n' "$OUT" >"$T/import.out"
expect_has "$OUT" "RADLINK/imp1.wl: accession IMP1 procedure RP1 step S1 written (" "a .wl file"
expect_has "$OUT" "RADLINK/imp1.wl: warning: 1 attribute the worklist does not serve left out: (0008,0020)" "StudyDate left out"
expect_has "$OUT" "RADLINK/imp2.wl: accession IMP2 procedure RP2 step S2 written" "no meta header"
expect_has "$OUT" "RADLINK/imp3.wl: accession IMP3 procedure RP3 step S3 written" "bare values"
expect_has "$OUT" "imp5.dump: accession IMP5 procedure IMP5 step IMP5 not taken: on the worklist already (imported from $W/imp5.dump); --replace writes over it" "no overwrite"
expect_has "$OUT" "imp6.dump: accession IMP6 procedure RP6 step S6A written" "first step"
expect_has "$OUT" "imp6.dump: accession IMP6 procedure RP6 step S6B written" "second step"
expect_has "$OUT" "imp7.dump: warning: RequestedProcedureDescription left out: 80 characters, more than the 64 DICOM allows" "long optional"
expect_has "$OUT" "imp7.dump: accession IMP7 procedure RP7 step S7 written" "long optional"
expect_has "$OUT" "bad_nopid.dump: not taken: PatientID, Modality are empty or absent" "required"
expect_has "$OUT" "bad_syntax.dump: not taken: line 3: expected a tag (gggg,eeee) or a keyword" "syntax"
expect_has "$OUT" "bad_longid.dump: not taken: PatientID has 80 characters, more than the 64 DICOM allows" "long ID"
expect_has "$OUT" "bad_binary.bin: not taken: not a DICOM file or a DICOM dump" "binary"
expect_not_has "$OUT" "lockfile" "wlmscpfs's lock file"
expect_has "$OUT" "10 files read: 7 entries offered to the worklist, 4 not taken" "summary"

note "the same steps from radlink and from wlmscpfs on the same folder"
# -dfr: wlmscpfs serves files without every return type 1 attribute too (by
# default it ignores them; radlink takes what a modality needs, see wl import)
WLM_PORT=$(free_port)
wlmscpfs -dfr -dfp "$W" "$WLM_PORT" >"$T/wlmscpfs.log" 2>&1 &
PIDS="$PIDS $!"
wait_until 10 "echoscu -aec RADLINK 127.0.0.1 $WLM_PORT >/dev/null 2>&1"
# both give the same answers, and these ones (two empty answers would agree
# too): the CT steps (the one CT dump beside the .wl files is not taken) and
# the steps of the 24th
for q in "ct IMP1/S1 IMP3/S3 " "on_24th IMP1/S1 IMP2/S2 "; do
    set -- $q
    want="$2 $3 "
    find_wl "$WLM_PORT" "$1"
    expect_eq "$FIND_RC" 0 "wlmscpfs answers query $1: $(tail -3 "$T/$1.rsp")"
    expect_eq "$MATCHES" "$want" "query $1 to wlmscpfs"
    find_wl "$DICOM_PORT" "$1"
    expect_eq "$FIND_RC" 0 "radlink answers query $1: $(tail -3 "$T/$1.rsp")"
    expect_eq "$MATCHES" "$want" "query $1 to radlink, beside wlmscpfs"
done
# radlink matches a multi-valued station AE value by value (PS3.4 C.2.2.2.8);
# wlmscpfs compares the whole value and finds nothing
find_wl "$DICOM_PORT" station_ct02
expect_eq "$MATCHES" "IMP3/S3 " "one of two stations"
find_wl "$WLM_PORT" all
theirs=$MATCHES
find_wl "$DICOM_PORT" all
expect_eq "$MATCHES" "IMP1/S1 IMP2/S2 IMP3/S3 IMP5/IMP5 IMP6/S6A IMP6/S6B IMP7/S7 " "radlink: all"
expect_eq "$theirs" "IMP1/S1 IMP2/S2 IMP3/S3 " "wlmscpfs: the .wl files"
expect_has "$(cat "$T/all.rsp")" "(0040,1003) SH [LOW ]" "priority LOW kept"
find_wl "$DICOM_PORT" nm
expect_eq "$MATCHES" "IMP6/S6A IMP6/S6B " "two steps of one file"
expect_line "$(cat "$T/nm.rsp")" '\(0020,000d\) UI \[2\.25\.[0-9]+\]' "a study UID made"

note "what a user sees of an imported entry"
run_rc "$RADLINK" wl show --data "$T/var" IMP1
expect_rc 0 "wl show"
expect_has "$OUT" "from $W/RADLINK/imp1.wl" "the source file"
expect_has "$OUT" "MÜLLER^JÜRGEN" "ISO 8859-1 read as UTF-8"
expect_line "$OUT" 'CodeMeaning +CT HEAD W/O CONTRAST' "the code sequence"

note "--replace writes over what is there"
run_rc "$RADLINK" wl import --data "$T/var" --replace "$W/RADLINK"
expect_rc 0 "replace"
expect_has "$OUT" "imp1.wl: accession IMP1 procedure RP1 step S1 replaced" "replaced"
expect_has "$OUT" "3 files read: 3 entries offered to the worklist, 0 not taken" "replace summary"
stop_engine
