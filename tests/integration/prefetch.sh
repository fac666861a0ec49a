#!/bin/sh
# Priors moved by hand (`radlink prefetch`), between real peers: one Orthanc
# as the archive (it knows the reading PACS, so it can C-MOVE there), one as
# the reading PACS, a third the archive does not know. DCMTK's storescu puts
# the priors on the archive: CT two and three years old (relevant), CT seven
# years old (too old), MR last year (another modality), and another
# patient's CT; the PACS holds one instance of the three-year-old CT
# already. Asserted at the PACS through Orthanc's REST API:
# - --dry-run lists and decides, and moves nothing;
# - then exactly the relevant priors arrive, complete; the one the PACS
#   held is not moved again;
# - to a PACS the archive does not know: the refusal (0xA801, or Orthanc's
#   0xC000), said with what to configure; with retrieve="get" on the archive, radlink fetches and sends;
# - a PACS that answers success and keeps only some instances (Orthanc's
#   Lua filter): radlink's verification says what it shows;
# - an archive that answers slowly: the step that timed out, said;
# - an archive that is down: said, nothing moved.
. "$(dirname "$0")/lib.sh"

Y=$(date -u +%Y)
D2=$((Y - 2))0315 D3=$((Y - 3))0610 D7=$((Y - 7))0101 D1=$((Y - 1))1111
make_prior "$T/p2" 1.2.996.2 "$D2" CT PF1 3
make_prior "$T/p3" 1.2.996.3 "$D3" CT PF1 2
make_prior "$T/p7" 1.2.996.7 "$D7" CT PF1 2
make_prior "$T/m1" 1.2.996.11 "$D1" MR PF1 2
make_prior "$T/x1" 1.2.996.21 "$D1" CT PF2 1

start_orthanc pacs false
PACS_DICOM=$ORTHANC_DICOM PACS_HTTP=$ORTHANC_HTTP
start_orthanc other false
OTHER_DICOM=$ORTHANC_DICOM OTHER_HTTP=$ORTHANC_HTTP
# a PACS that drops what it is sent: Orthanc's Lua filter refuses the
# instances whose SOP Instance UID ends in .2, and still answers success
cat >"$T/drop.lua" <<'LUA'
function ReceivedInstanceFilter(dicom, origin, info)
  return string.sub(dicom.SOPInstanceUID, -2) ~= ".2"
end
LUA
ORTHANC_EXTRA="\"LuaScripts\": [\"$T/drop.lua\"],"
start_orthanc dropping false
ORTHANC_EXTRA=
DROP_DICOM=$ORTHANC_DICOM DROP_HTTP=$ORTHANC_HTTP
start_orthanc archive false
ARCHIVE_DICOM=$ORTHANC_DICOM ARCHIVE_HTTP=$ORTHANC_HTTP
# the archive knows the reading PACS (not the other one)
curl -sf -X PUT "http://127.0.0.1:$ARCHIVE_HTTP/modalities/pacs" \
    -d "{\"AET\": \"PACS\", \"Host\": \"127.0.0.1\", \"Port\": $PACS_DICOM}" >/dev/null ||
    fail "the archive did not take the PACS"
curl -sf -X PUT "http://127.0.0.1:$ARCHIVE_HTTP/modalities/dropping" \
    -d "{\"AET\": \"DROPPING\", \"Host\": \"127.0.0.1\", \"Port\": $DROP_DICOM}" >/dev/null ||
    fail "the archive did not take the dropping PACS"
run_rc storescu -aec ARCHIVE 127.0.0.1 "$ARCHIVE_DICOM" "$T"/p2/*.dcm "$T"/p3/*.dcm \
    "$T"/p7/*.dcm "$T"/m1/*.dcm "$T"/x1/*.dcm
expect_rc 0 "storescu to the archive"
run_rc storescu -aec PACS 127.0.0.1 "$PACS_DICOM" "$T/p3/i1.dcm"
expect_rc 0 "storescu of one prior instance to the PACS"

# count PORT STUDY: the instances an Orthanc holds of a study
count() {
    curl -sf -X POST "http://127.0.0.1:$1/tools/find" \
        -d "{\"Level\":\"Instance\",\"Query\":{\"StudyInstanceUID\":\"$2\"}}" |
        /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
studies() { curl -sf "http://127.0.0.1:$1/studies" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

cat >"$T/cfg.xml" <<XML
<radlink>
  <dicom>
    <pacs ae="PACS" host="127.0.0.1" port="$PACS_DICOM"/>
    <node ae="ARCHIVE" host="127.0.0.1" port="$ARCHIVE_DICOM" query-timeout="20"/>
    <node ae="OTHER" host="127.0.0.1" port="$OTHER_DICOM"/>
    <node ae="DROPPING" host="127.0.0.1" port="$DROP_DICOM"/>
  </dicom>
</radlink>
XML

note "--dry-run: each study of the archive with the decision and why, nothing moved"
run_rc "$RADLINK" prefetch PF1 --from ARCHIVE --to PACS --modality CT --config "$T/cfg.xml" --dry-run
expect_rc 0 "the dry run: $ERR"
expect_has "$OUT" "ARCHIVE holds 4 studies of patient PF1" "the archive's answer"
expect_line "$OUT" "^  $D2 +CT .* relevant: CT, 2 years before" "the two-year-old CT"
expect_line "$OUT" "^  $D3 +CT .* relevant: CT, 3 years before" "the three-year-old CT"
expect_line "$OUT" "^  $D7 +CT .* skipped: too old \(7 years before\)" "the seven-year-old CT"
expect_line "$OUT" "^  $D1 +MR .* skipped: not CT \(MR\)" "the MR"
expect_has "$OUT" "PACS holds it already (1 instances): not moved" "the prior the PACS holds"
expect_has "$OUT" "would be moved to PACS (--dry-run)" "what would be moved"
expect_eq "$(studies "$PACS_HTTP")" 1 "nothing moved by a dry run"

note "an archive answering more studies than max-answers: the cap said"
sed 's|query-timeout="20"|query-timeout="20" max-answers="2"|' "$T/cfg.xml" >"$T/cfg_cap.xml"
run_rc "$RADLINK" prefetch PF1 --from ARCHIVE --to PACS --config "$T/cfg_cap.xml" --dry-run
expect_rc 0 "the capped dry run: $ERR"
expect_has "$OUT" "only the first 2 answers are considered (of 4: the archive's max-answers)" "the cap"
expect_eq "$(printf '%s\n' "$OUT" | grep -c ' \(relevant\|skipped\): ')" 2 "two studies considered"

note "the relevant priors moved (C-MOVE) and verified; the one the PACS held not moved again"
run_rc "$RADLINK" prefetch PF1 --from ARCHIVE --to PACS --modality CT --config "$T/cfg.xml"
expect_rc 0 "the prefetch: $ERR"
expect_has "$OUT" "moved to PACS: 3 instances, verified" "the two-year-old CT, verified"
expect_has "$OUT" "2 relevant, 1 already at PACS, 1 moved (3 instances)" "the totals"
expect_eq "$(count "$PACS_HTTP" 1.2.996.2)" 3 "the two-year-old CT is complete at the PACS"
expect_eq "$(count "$PACS_HTTP" 1.2.996.3)" 1 "the prior the PACS held was not moved again"
expect_eq "$(count "$PACS_HTTP" 1.2.996.7)" 0 "not the old one"
expect_eq "$(count "$PACS_HTTP" 1.2.996.11)" 0 "not the MR"
expect_eq "$(count "$PACS_HTTP" 1.2.996.21)" 0 "not another patient's"

note "a PACS the archive does not know: 0xA801 and what to configure; retrieve=get instead"
run_rc "$RADLINK" prefetch PF1 --from ARCHIVE --to OTHER --modality CT --max 1 --config "$T/cfg.xml"
expect_rc 1 "a move the archive cannot make"
# (Orthanc answers 0xC000 where the standard says 0xA801; radlink says the
# same of both)
expect_line "$OUT$ERR" "does not know the destination OTHER" "the refusal, said"
expect_has "$OUT$ERR" 'retrieve="get"' "and the remedy"
expect_eq "$(studies "$OTHER_HTTP")" 0 "nothing at the other PACS"
sed 's|<node ae="ARCHIVE"|<node retrieve="get" ae="ARCHIVE"|' "$T/cfg.xml" >"$T/cfg_get.xml"
run_rc "$RADLINK" prefetch PF1 --from ARCHIVE --to OTHER --modality CT --max 1 --config "$T/cfg_get.xml"
expect_rc 0 "C-GET and C-STORE on: $ERR"
expect_has "$OUT" "fetched (C-GET) and sent to OTHER: 3 instances, verified" "said"
expect_eq "$(count "$OTHER_HTTP" 1.2.996.2)" 3 "the prior is complete at the other PACS"

note "a PACS that answers success but keeps only some instances: not verified, said"
run_rc "$RADLINK" prefetch PF1 --from ARCHIVE --to DROPPING --modality CT --max 1 --config "$T/cfg.xml"
expect_rc 1 "a move the PACS does not show whole"
expect_has "$OUT" "DROPPING answered the C-MOVE, but shows 2 of its 3 instances" "what the PACS shows"
expect_eq "$(count "$DROP_HTTP" 1.2.996.2)" 2 "the PACS holds what it kept"

note "an archive that answers slowly: the timeout said, with the step"
start_slow_proxy "$ARCHIVE_DICOM" 3000
SLOW=$PROXY_PORT
sed "s|<node ae=\"OTHER\"|<node ae=\"SLOW\" host=\"127.0.0.1\" port=\"$SLOW\" query-timeout=\"1\"/>\n    <node ae=\"OTHER\"|" \
    "$T/cfg.xml" >"$T/cfg_slow.xml"
run_rc "$RADLINK" prefetch PF1 --from SLOW --to PACS --config "$T/cfg_slow.xml"
expect_rc 1 "a slow archive"
expect_has "$ERR" "C-FIND at SLOW@127.0.0.1:$SLOW: no answer within 1 s" "the step and the timeout"

note "an archive that is down: said, nothing moved"
hold_port DOWN
sed "s|port=\"$ARCHIVE_DICOM\"|port=\"$DOWN\"|" "$T/cfg.xml" >"$T/cfg_down.xml"
run_rc "$RADLINK" prefetch PF1 --from ARCHIVE --to PACS --config "$T/cfg_down.xml"
expect_rc 1 "the archive is down"
expect_has "$ERR" "ARCHIVE@127.0.0.1:$DOWN" "the archive named"
echo "PASS"
