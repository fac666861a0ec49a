#!/bin/sh
# Hot backup and restore: the engine takes orders (mllp_send) and images
# (storescu), all answered; then, under MLLP load (mllp_load, 4 connections)
# and C-STORE load (storescu in a loop), `radlink backup` copies the store
# and its spool. The backup checks (radlink check, sha256sum -c); restored
# into a new directory, an engine starts on it and every message and
# instance answered before the backup began is there. A backup whose file
# was altered is refused whole; check names what is missing.
# Usage: backup.sh MLLP_LOAD
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/integration/mwl_lib.sh"
LOAD=${1:?the mllp_load binary}

start_engine --workers 0

note "before the backup: 40 orders and a study of 20 images, all answered"
: >"$T/orders.hl7"
n=1
while [ $n -le 40 ]; do
    orm "B$n" NW "70$n" "S$n" CT CT01 202611241000 'DOE^JANE' "P$n" >>"$T/orders.hl7"
    n=$((n + 1))
done
send_hl7 "$T/orders.hl7"
expect_eq "$(grep -c 'MSA|AA' "$T/orders.hl7.out")" 40 "40 ACKs AA"
make_study "$T/s1" 1 20 1.2.999.41 701 P1 'DOE^JANE'
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T"/s1/i*.dcm
expect_rc 0 "storescu: 20 images stored"

note "under load: mllp_load (4 connections) and storescu in a loop, a backup meanwhile"
"$LOAD" 127.0.0.1 "$PORT" 4 1500 >"$T/load.out" 2>&1 &
LPID=$!
PIDS="$PIDS $LPID"
make_study "$T/s2" 1 10 1.2.999.42 702 P2 'ROE^ANNA'
# 15 passes over the same 10 images; each pass's exit status is kept
(
    k=0
    while [ $k -lt 15 ]; do
        set +e
        storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T"/s2/i*.dcm >>"$T/stores.out" 2>&1
        echo $? >>"$T/stores.rc"
        set -e
        k=$((k + 1))
    done
) &
SPID=$!
PIDS="$PIDS $SPID"
# the load is under way (the engine received more than the 40 orders) and
# the first pass stored its 10 images: the backup must hold them all
wait_cmd 30 "^messages .*, [0-9]{3,} received$" "$RADLINK" status --data "$T/var"
wait_cmd 30 "^  instances +10$" "$RADLINK" recon show --data "$T/var" 1.2.999.42
run_rc "$RADLINK" backup --data "$T/var" "$T/bak"
expect_rc 0 "backup under load: $ERR"
expect_line "$OUT" "^backed up .* into $T/bak in [0-9.]+ s" "says what it did"
BACKUP_OUT=$OUT
wait_exit "$LPID" 120
expect_rc 0 "mllp_load: $(cat "$T/load.out")"
expect_has "$(cat "$T/load.out")" "non_aa=0 failures=0" "the load was answered, all AA"
wait_exit "$SPID" 120
expect_eq "$(grep -c . "$T/stores.rc")" 15 "15 storescu passes ran"
expect_eq "$(grep -cx 0 "$T/stores.rc")" 15 "every pass stored its 10 images: $(tail -5 "$T/stores.out")"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.42
expect_line "$OUT" "^  instances +10$" "the repeated passes hold 10 images"
stop_engine

note "the backup keeps its secrets: owner-only, as the store is"
# every file 0600 and every directory 0700, the manifests and the store included
open=$(find "$T/bak" \( -type f ! -perm 0600 \) -o \( -type d ! -perm 0700 \) | head -3)
expect_eq "$open" "" "files or directories of the backup others may read"
expect_line "$BACKUP_OUT" "spool [0-9]+ files" "the backup counts spool files"
mkdir -m 0755 "$T/open-bak"
run_rc "$RADLINK" backup --data "$T/var" "$T/open-bak"
expect_rc 1 "a backup into a directory others may read"
expect_has "$ERR" "other users may read it (mode 0755)" "says why"
expect_has "$ERR" "--force" "and how to go on"
[ -z "$(ls -A "$T/open-bak")" ] || fail "nothing is written into it"
run_rc "$RADLINK" backup --data "$T/var" "$T/open-bak" --force
expect_rc 0 "--force backs up into it: $ERR"
expect_eq "$(find "$T/open-bak" -mindepth 1 \( -type f ! -perm 0600 \) -o \( -mindepth 1 -type d ! -perm 0700 \) | head -3)" "" \
    "its files are owner-only still"

note "the backup checks"
run_rc "$RADLINK" check --data "$T/bak"
expect_rc 0 "radlink check on the backup: $OUT"
expect_has "$OUT" "checksums checked: 0 problems" "checksums hold"
run_rc sh -c "cd '$T/bak' && sha256sum -c --quiet MANIFEST.sha256"
expect_rc 0 "sha256sum -c on the manifest: $OUT $ERR"
expect_line "$(cat "$T/bak/MANIFEST")" "^instances 30$" "the manifest counts the 20 images and the 10 stored before the backup"
BAK_MSGS=$(sed -n 's/^messages \([0-9]*\)$/\1/p' "$T/bak/MANIFEST")
[ "${BAK_MSGS:-0}" -ge 40 ] || fail "the manifest counts the messages: [$BAK_MSGS]"

note "restore into a new directory, and an engine on it"
mv "$T/var" "$T/orig"
run_rc "$RADLINK" restore "$T/bak" --data "$T/var"
expect_rc 0 "restore: $ERR"
expect_has "$OUT" "instances pointed at $T/var/spool" "the instances point at the new spool"
run_rc "$RADLINK" check --data "$T/var"
expect_rc 0 "radlink check on the restored directory: $OUT"
open=$(find "$T/var" \( -type f ! -perm 0600 \) -o \( -type d ! -perm 0700 \) | head -3)
expect_eq "$open" "" "restored files or directories others may read"
PORT= DICOM_PORT= HTTP_PORT=
start_engine --workers 0
run_rc "$RADLINK" msg list --data "$T/var" --type ORM --limit 100000
n=1
while [ $n -le 40 ]; do
    expect_line "$OUT" " B$n " "order B$n, answered before the backup, is in the restored log"
    n=$((n + 1))
done
run_rc "$RADLINK" status --data "$T/var"
expect_line "$OUT" "^messages +$BAK_MSGS in the log " "the restored log holds the messages the manifest counts"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.42
expect_line "$OUT" "^  instances +10$" "the 10 images stored before the backup"
run_rc "$RADLINK" recon show --data "$T/var" 1.2.999.41
expect_line "$OUT" "^  instances +20$" "the 20 images answered before the backup"
k=1
while [ $k -le 20 ]; do
    f=$(printf '%s\n' "$OUT" | awk -v s="1.2.999.41.1.$k" '$1 == s { print $NF }')
    [ -s "$f" ] || fail "instance 1.2.999.41.1.$k has no file in the restored spool ($f)"
    case "$f" in "$T/var/spool/"*) ;; *) fail "instance 1.2.999.41.1.$k points outside the restored spool: $f" ;; esac
    k=$((k + 1))
done
query q <<'EOF'
(0008,0050) SH []
(0040,0100) SQ (Sequence with undefined length #=1)
  (fffe,e000) na (Item with undefined length #=1)
    (0008,0060) CS [CT]
    (0040,0009) SH [S1]
  (fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
EOF
find_wl "$DICOM_PORT" q
expect_eq "$MATCHES" "701/S1 " "the restored engine answers a worklist query"
stop_engine

note "bad input: an altered backup, a directory in use, a missing file"
f=$(find "$T/bak/spool" -name '*.dcm' | head -1)
printf 'x' >>"$f"
run_rc "$RADLINK" restore "$T/bak" --data "$T/other"
expect_rc 1 "an altered backup"
expect_has "$ERR" "checksum differs from the manifest" "names the file"
expect_has "$ERR" "nothing restored" "writes nothing"
[ ! -e "$T/other/store" ] || fail "an altered backup was partly restored"
run_rc "$RADLINK" restore "$T/bak" --data "$T/var"
expect_rc 1 "a directory that holds a store"
run_rc "$RADLINK" backup --data "$T/var" "$T/bak"
expect_rc 1 "a backup into a directory that is not empty"
expect_has "$ERR" "exists and is not empty" "says so"
g=$(find "$T/var/spool" -name '*.dcm' | head -1)
rm "$g"
run_rc "$RADLINK" check --data "$T/var"
expect_rc 1 "check with a spool file gone"
expect_has "$OUT" "$g: No such file or directory" "names the file"
expect_has "$OUT" "1 problem" "counts it"
echo "PASS"
