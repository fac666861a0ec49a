#!/bin/sh
# A full disk: the data directory on a small tmpfs, filled up while the
# engine runs. An HL7 message gets AR saying the disk is full (not an I/O
# error), a C-STORE gets 0xA700 (out of resources) saying the same, nothing
# accepted before is lost, and once space is freed both go through again.
# Needs to mount a tmpfs (root, as the suite runs in CI); without that
# permission the test says so and is skipped (exit 77).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"
D=$T/disk
mkdir -p "$D"
if ! mount -t tmpfs -o size=12m,mode=0700 tmpfs "$D" 2>"$T/mount.err"; then
    echo "SKIP: cannot mount a tmpfs here: $(cat "$T/mount.err")"
    exit 77
fi
cleanup_disk() {
    cleanup
    umount -l "$D" 2>/dev/null || true
}
trap cleanup_disk EXIT
start_engine --data "$D/var" --workers 0

orm MSG1 NW ACC1 SPS1 CT CT01 202611241030 "DOE^JANE" PAT1 >"$T/before.hl7"
send_hl7 "$T/before.hl7"
expect_has "$(cat "$T/before.hl7.out")" "MSA|AA|MSG1" "an order before the disk fills"
make_study "$T/s" 1 2 1.2.826.0.1.3680043.10.1.91 ACC1 PAT1 "DOE^JANE"
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/s/i1.dcm"
expect_rc 0 "an instance before the disk fills"

note "the disk fills up"
dd if=/dev/zero of="$D/filler" bs=64k >/dev/null 2>&1 || true
expect_eq "$(df --output=avail -B1 "$D" | tail -1 | tr -d ' ')" 0 "no space left"

# a message large enough to need new pages in the store (a small one may
# fit into pages LMDB frees and reuses)
/usr/bin/python3 - "$T/big.hl7" <<'PY'
import sys
pdf = "A" * (2 * 1024 * 1024)
m = ("MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261124101500||ORU^R01|BIG1|P|2.5.1\r"
     "PID|1||PAT1^^^GENHOSP^MR||DOE^JANE\r"
     "OBR|1|OACC1|FACC1|P1^CT HEAD\r"
     "OBX|1|ED|PDF^Report||^AP^PDF^Base64^" + pdf + "\r")
open(sys.argv[1], "w").write(m)
PY
send_hl7 "$T/big.hl7"
ACK=$(cat "$T/big.hl7.out")
expect_has "$ACK" "MSA|AR|BIG1" "AR while the disk is full"
expect_has "$ACK" "the disk holding the store is full" "the AR says the disk is full"
expect_not_has "$ACK" "Input/output error" "not an I/O error"

run_rc storescu -d -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/s/i2.dcm"
expect_line "$OUT$ERR" "DIMSE Status +: 0xa700: Refused: Out of resources" "C-STORE refused 0xA700"
expect_line "$OUT$ERR" "\(0000,0902\) LO \[out of resources: the disk holding the spool is full\]" \
    "the modality is told why (Error Comment)"
kill -0 "$ENGINE_PID" || fail "the engine died on a full disk"

note "space again: both go through, and nothing accepted before is lost"
rm -f "$D/filler"
send_hl7 "$T/big.hl7"
expect_has "$(cat "$T/big.hl7.out")" "MSA|AA|BIG1" "the message is accepted once there is space"
run_rc storescu -aec RADLINK 127.0.0.1 "$DICOM_PORT" "$T/s/i2.dcm"
expect_rc 0 "the instance is stored once there is space"
run_rc "$RADLINK" msg list --data "$D/var" --status accepted
expect_has "$OUT" "MSG1" "the order accepted before is still there"
run_rc "$RADLINK" status --data "$D/var"
expect_line "$OUT" "stored 2 " "both instances stored"
stop_engine
echo "PASS disk_full"
