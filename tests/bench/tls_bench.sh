#!/bin/sh
# DICOM over TLS beside plain, same engine, same run: DCMTK's echoscu (a TLS
# handshake with client certificates + C-ECHO per run) and findscu (a
# worklist C-FIND per run), each run one association from a new process as
# a modality makes it. Usage: tls_bench.sh [--smoke]   (RADLINK, SRC as for the tests)
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/mwl_lib.sh"
N=50
[ "${1:-}" = "--smoke" ] && N=3
P=$T/pki; make_pki "$P" radlink modality
DICOM_PORT=$(free_port); TLS_PORT=$(free_port)
while [ "$TLS_PORT" = "$DICOM_PORT" ]; do TLS_PORT=$(free_port); done
cat >"$T/cfg.xml" <<XML
<radlink><dicom><tls port="$TLS_PORT" cert="pki/radlink.pem" key="pki/radlink.key" ca="pki/ca.pem" verify-client="true"/></dicom></radlink>
XML
start_engine --config "$T/cfg.xml" --workers 0
GOOD="+tls $P/modality.key $P/modality.pem +cf $P/ca.pem"

t0=$(date +%s%N); i=0; while [ $i -lt $N ]; do echoscu -aec RADLINK 127.0.0.1 $DICOM_PORT || fail "a run failed"; i=$((i+1)); done; t1=$(date +%s%N)
i=0; while [ $i -lt $N ]; do echoscu -aec RADLINK $GOOD 127.0.0.1 $TLS_PORT || fail "a run failed"; i=$((i+1)); done; t2=$(date +%s%N)
orm O1 NW A1 S1 CT CT01 202611240930 'DOE^JANE' P1 >"$T/o.hl7"; send_hl7 "$T/o.hl7"
query q <<'DUMP'
(0010,0010) PN []
(0040,0100) SQ (Sequence with explicit length #=1)
  (fffe,e000) na (Item with explicit length #=1)
    (0008,0060) CS [CT]
  (fffe,e00d) na (ItemDelimitationItem for re-encoding)
(fffe,e0dd) na (SequenceDelimitationItem for re-encoding)
DUMP
t3=$(date +%s%N); i=0; while [ $i -lt $N ]; do findscu -W -aec RADLINK 127.0.0.1 $DICOM_PORT $T/q.dcm 2>/dev/null|| fail "a run failed"; i=$((i+1)); done; t4=$(date +%s%N)
i=0; while [ $i -lt $N ]; do findscu -W -aec RADLINK $GOOD 127.0.0.1 $TLS_PORT $T/q.dcm 2>/dev/null || fail "a run failed"; i=$((i+1)); done; t5=$(date +%s%N)
echo "C-ECHO plain: $(( (t1-t0)/N/1000000 )) ms per echoscu run; TLS (handshake + C-ECHO): $(( (t2-t1)/N/1000000 )) ms -> $(( N*1000000000/(t2-t1) ))/s sequential"
echo "C-FIND plain: $(( (t4-t3)/N/1000000 )) ms per findscu run; TLS: $(( (t5-t4)/N/1000000 )) ms"
stop_engine
