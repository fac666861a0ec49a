#!/bin/sh
# A C-STORE refused because the store is full changes nothing: the file the
# index describes stays byte for byte, nothing is left in the incoming
# directory, and the refusal says the store is full. Once there is room, the
# same replacement is taken.
# The store is filled for real: a reader (a `radlink msg list` whose output
# nobody reads) pins its snapshot, so LMDB cannot reuse freed pages and the
# 2 MB map (its ceiling too: it may not grow) runs out.
. "$(dirname "$0")/lib.sh"
H=$DATA/hl7
cat >"$T/tiny.xml" <<XML
<radlink><store map-size-mb="2" max-map-size-mb="2"/></radlink>
XML
start_engine --config "$T/tiny.xml" --workers 0
S=1.2.826.0.1.3680043.10.1.96
make_study "$T/s" 1 1 "$S" ACC1 PAT1 "DOE^JANE"
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/s/i1.dcm"
expect_rc 0 "the instance stored"
spooled=$(find "$T/var/spool/$S" -name "$S.1.1.dcm")
[ -n "$spooled" ] || fail "the instance is not in the spool"
cp "$spooled" "$T/kept.dcm"

note "a reader holds its snapshot; messages fill the store"
/usr/bin/python3 - "$T/many.hl7" "$H/adt_a08.hl7" <<'PY'
import sys
m = open(sys.argv[2]).read().strip('\r\n')
with open(sys.argv[1], 'w') as f:
    for i in range(600):
        f.write(m.replace('MSG00002', 'B%d' % i) + '\r\n')
PY
run_rc "$RADLINK" send --quiet --batch --to "127.0.0.1:$PORT" "$T/many.hl7"
expect_rc 0 "600 messages in one batch (each with its audit event)"
# a reader blocked on a pipe nobody reads (the audit trail is more than a pipe holds)
"$RADLINK" audit list --xml --data "$T/var" --limit 100000 | sleep 86400 &
HOLD=$!
PIDS="$PIDS $HOLD"
wait_cmd 10 "^store readers [1-9]" "$RADLINK" status --data "$T/var"
i=0
while [ $i -lt 500 ]; do
    i=$((i + 1))
    sed "s/MSG00002/FULL$i/; s/JANET/JANET$(printf '%03000d' 0)/" "$H/adt_a08.hl7" >"$T/m.hl7"
    "$RADLINK" send --quiet --to "127.0.0.1:$PORT" "$T/m.hl7" || break
done
[ $i -lt 500 ] || fail "the store did not fill"
# then small ones until not even those fit (each carries its audit event)
i=0
while [ $i -lt 500 ]; do
    i=$((i + 1))
    sed "s/MSG00002/SMALL$i/" "$H/adt_a08.hl7" >"$T/m.hl7"
    "$RADLINK" send --quiet --to "127.0.0.1:$PORT" "$T/m.hl7" || break
done
[ $i -lt 500 ] || fail "the store did not fill with small messages"

note "a replacement of the stored instance, refused: nothing changes"
# a replacement writes less than a message with its index entries: the
# modality sends replacements until the store refuses one
n=0
while [ $n -lt 200 ]; do
    n=$((n + 1))
    cp "$T/s/i1.dcm" "$T/again.dcm"
    dcmodify -nb -m "PatientName=CHANGED^NAME$n" "$T/again.dcm" >/dev/null 2>&1 || fail "dcmodify"
    run_rc storescu -d -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/again.dcm"
    case "$OUT$ERR" in *"0xa700"*) break ;; esac
    cp "$spooled" "$T/kept.dcm" # taken: what the index now describes
done
expect_line "$OUT$ERR" "DIMSE Status +: 0xa700: Refused: Out of resources" "the replacement refused A700"
cmp -s "$spooled" "$T/kept.dcm" || fail "the refused replacement changed the spooled file"
expect_eq "$(ls -A "$T/var/spool/incoming")" "" "nothing left in the incoming directory"
expect_line "$OUT$ERR" "\(0000,0902\) LO \[.*the store is full" \
    "the modality is told the store is full (Error Comment)"
run_rc dcmdump +P PatientName "$spooled"
expect_not_has "$OUT" "CHANGED^NAME$n]" "the spooled file still has the name the index knows"
expect_eq "$(dcmdump +P PatientName "$spooled")" "$(dcmdump +P PatientName "$T/kept.dcm")" "the last one taken"

note "room again: the same replacement is taken"
kill "$HOLD" 2>/dev/null || true
wait_cmd 20 "^store readers 0" "$RADLINK" status --data "$T/var"
# the pages the reader pinned are free once a write has moved past its
# snapshot: the modality sends again until it is taken, as it would
wait_until 20 "storescu -aec RADLINK 127.0.0.1 $DICOM_PORT '$T/again.dcm' >/dev/null 2>&1"
run_rc dcmdump +P PatientName "$spooled"
expect_has "$OUT" "CHANGED^NAME$n]" "the replacement is in the spool"
stop_engine
echo "PASS dicom_refused_keeps"
