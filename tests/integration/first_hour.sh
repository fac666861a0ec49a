#!/bin/sh
# An administrator's first hour, scripted: a configuration in a
# subdirectory with relative paths (resolved against its own directory,
# printed absolute; a <data dir> that does not exist refused until --init),
# an Orthanc that knows radlink checked with `pacs check`, a modality's
# findscu answered from an order, a route file switched to with `routes
# reload FILE`, a backup whose files are owner-only; and a configuration of
# an earlier release whose <data dir> only exists relative to the working
# directory, still served from there. Each asserted on what the user sees.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mwl_lib.sh"

ORTHANC_RADLINK='[ "RADLINK", "127.0.0.1", 1 ]' # corrected below, once radlink's port is known
start_orthanc pacs false
mkdir -p "$T/site/conf" "$T/elsewhere"
cat >"$T/site/conf/radlink.xml" <<XML
<radlink>
  <data dir="../var"/>
  <dicom><pacs ae="ORTHANC" host="127.0.0.1" port="$ORTHANC_DICOM"/></dicom>
  <routes file="routes/site.xml"/>
</radlink>
XML
mkdir -p "$T/site/conf/routes"
cp "$SRC/routes/default.xml" "$T/site/conf/routes/site.xml"

# serve_here ARGS: the engine from another working directory, on the
# ports the system picks; its start banner in $T/banner.N
N=0
serve_here() {
    N=$((N + 1))
    ENGINE_LOG=$T/banner.$N
    (cd "$T/elsewhere" && exec "$RADLINK" serve --mllp auto --dicom auto --http auto "$@") \
        >"$ENGINE_LOG" 2>&1 &
    ENGINE_PID=$!
    PIDS="$PIDS $ENGINE_PID"
}

note "a <data dir> that does not exist: refused, named absolute, until --init"
serve_here --config ../site/conf/radlink.xml
wait_exit "$ENGINE_PID" 20
[ "$RC" != 0 ] || fail "serve refuses a missing <data dir>: $(cat "$ENGINE_LOG")"
expect_has "$(cat "$ENGINE_LOG")" "$T/site/var (<data dir> of" "the path it would have used, absolute"
expect_has "$(cat "$ENGINE_LOG")" "give --init" "and what to do"
[ ! -e "$T/site/var" ] && [ ! -e "$T/var" ] || fail "nothing is created without --init"

serve_here --config ../site/conf/radlink.xml --init
engine_listening --data "$T/site/var"
banner=$(cat "$ENGINE_LOG")
expect_has "$banner" "config=$T/site/conf/radlink.xml" "the banner names the configuration, absolute"
expect_has "$banner" "data=$T/site/var" "the data directory: relative to the configuration, absolute"
expect_has "$banner" "routes=$T/site/conf/routes/site.xml" "the route file likewise"
[ -d "$T/site/var/store" ] || fail "the store is where the banner says"
curl -sf -X PUT "http://127.0.0.1:$ORTHANC_HTTP/modalities/radlink" \
    -d "{\"AET\": \"RADLINK\", \"Host\": \"127.0.0.1\", \"Port\": $DICOM_PORT}" >/dev/null ||
    fail "Orthanc did not take radlink's port"

note "the PACS knows radlink: pacs check says all is allowed"
run_rc "$RADLINK" pacs check ORTHANC --data "$T/site/var"
expect_rc 0 "pacs check: $OUT"
expect_has "$OUT" 'verify="commit+find" suits it (the default)' "the default suits it"

note "an order, and a modality's worklist query"
orm H1 NW ACC1 S1 CT CT01 202612061030 'DOE^JANE' P1 >"$T/o.hl7"
send_hl7 "$T/o.hl7"
expect_has "$(cat "$T/o.hl7.out")" "MSA|AA|H1" "the order is taken"
query q <<'EOF'
(0008,0050) SH []
(0010,0010) PN []
(0040,0100) SQ (Sequence with undefined length #=1)
  (fffe,e000) na (Item with undefined length #=2)
    (0008,0060) CS [CT]
    (0040,0009) SH []
  (fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
EOF
find_wl "$DICOM_PORT" q -aet CT01
expect_eq "$MATCHES" "ACC1/S1 " "the modality finds its step"

note "routes reload FILE switches the engine to another route file"
cat >"$T/site/conf/routes/strict.xml" <<'XML'
<routes default="reject" default-code="AR" default-text="this interface takes orders only">
  <route name="orders"><match type="ORM^O01"/><worklist/></route>
</routes>
XML
run_rc sh -c "cd '$T/site' && '$RADLINK' routes reload --data var conf/routes/strict.xml"
expect_rc 0 "routes reload FILE: $ERR"
expect_has "$OUT" "switched" "it says it switched"
expect_has "$OUT" "$T/site/conf/routes/strict.xml" "to the file named, absolute"
run_rc "$RADLINK" status --data "$T/site/var"
expect_line "$OUT" "^routes +$T/site/conf/routes/strict.xml" "status names the active file"
printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261206090000||ADT^A08|H2|P|2.5.1\rPID|1||P1^^^GENHOSP^MR||DOE^JANE\r\n' >"$T/a.hl7"
send_hl7 "$T/a.hl7"
expect_has "$(cat "$T/a.hl7.out")" "MSA|AR|H2" "the new routes answer"
run_rc "$RADLINK" routes reload --data "$T/site/var" "$T/site/conf/routes/missing.xml"
[ "$RC" != 0 ] || fail "a file that is not there is not taken: $OUT"
run_rc "$RADLINK" status --data "$T/site/var"
expect_line "$OUT" "^routes +$T/site/conf/routes/strict.xml" "the running routes stay"
shown=""
for seq in $("$RADLINK" audit list --data "$T/site/var" | awk '/Security Alert/ {print $1}'); do
    shown="$shown$("$RADLINK" audit show --data "$T/site/var" "$seq")"
done
expect_has "$shown" "route file switched to: sha256" "the audit trail records the switch"
expect_has "$shown" "$T/site/conf/routes/strict.xml" "with the file"

note "a backup is owner-only"
run_rc "$RADLINK" backup --data "$T/site/var" "$T/bak"
expect_rc 0 "backup: $ERR"
expect_eq "$(find "$T/bak" \( -type f ! -perm 0600 \) -o \( -type d ! -perm 0700 \) | head -3)" "" \
    "every file 0600, every directory 0700"
stop_engine

note "a configuration of an earlier release: <data dir> relative to the working directory"
mkdir -p "$T/old/conf"
mv "$T/site/var" "$T/old/var"
printf '<radlink><data dir="var"/></radlink>\n' >"$T/old/conf/radlink.xml"
N=$((N + 1))
ENGINE_LOG=$T/banner.$N
(cd "$T/old" && exec "$RADLINK" serve --config conf/radlink.xml --mllp auto --dicom auto \
    --http auto) >"$ENGINE_LOG" 2>&1 &
ENGINE_PID=$!
PIDS="$PIDS $ENGINE_PID"
engine_listening --data "$T/old/var"
expect_has "$(cat "$ENGINE_LOG")" "data=$T/old/var" "it goes on serving the store it had"
run_rc "$RADLINK" wl list --data "$T/old/var"
expect_has "$OUT" "ACC1" "with its worklist"
stop_engine
echo "PASS"
