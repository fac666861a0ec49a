# Helpers for the worklist tests: HL7 orders, DICOM query files, findscu.

# orm CONTROL ORC1 ACC SPS MODALITY STATION YYYYMMDDHHMM NAME [PID] [CHARSET]:
# one ORM^O01 with one OBR, on stdout (CR segment separators).
orm() {
    printf 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||ORM^O01^ORM_O01|%s|P|2.5.1||||||%s\r' "$1" "${10:-UNICODE UTF-8}"
    printf 'PID|1||%s^^^GENHOSP^MR||%s||19700412|F\r' "${9:-P$3}" "$8"
    printf 'PV1|1|O|RAD^^^GENHOSP|||||1234^SMITH^JOHN^^^DR\r'
    printf 'ORC|%s|O%s|F%s||SC||^^^%s^^R\r' "$2" "$3" "$3" "$7"
    printf 'OBR|1|O%s|F%s|P%s^PROC %s^LOCAL||||||||||||1234^SMITH^JOHN^^^DR||%s|RP%s|%s|%s|||%s|||^^^%s^^R\r\n' \
        "$3" "$3" "$3" "$3" "$3" "$3" "$4" "$6" "$5" "$7"
}

# send_hl7 FILE: mllp_send to the engine; the ACKs go to FILE.out
send_hl7() {
    mllp_send --loose --file "$1" --port "$PORT" 127.0.0.1 >"$1.out"
}

# query NAME: dump2dcm $T/NAME.dump -> $T/NAME.dcm (the dump is on stdin)
query() {
    cat >"$T/$1.dump"
    dump2dcm "$T/$1.dump" "$T/$1.dcm" 2>/dev/null || fail "dump2dcm $1"
}

# find PORT QUERY [findscu options]: findscu -W; stdout+stderr in $T/QUERY.rsp;
# sets MATCHES (accession/step pairs, sorted) and FINAL (the final status line)
find_wl() {
    port=$1 q=$2
    shift 2
    set +e
    findscu -v -W -aec "${CALLED:-RADLINK}" "$@" 127.0.0.1 "$port" "$T/$q.dcm" >"$T/$q.rsp" 2>&1
    FIND_RC=$?
    set -e
    MATCHES=$(awk '/Find Response: [0-9]+ \(Pending\)/ {r=1; a=""; s=""}
                   r && /\(0008,0050\)/ {match($0, /\[[^]]*\]/); a=substr($0, RSTART+1, RLENGTH-2); gsub(/ +$/, "", a)}
                   r && /\(0040,0009\)/ {match($0, /\[[^]]*\]/); s=substr($0, RSTART+1, RLENGTH-2); gsub(/ +$/, "", s); print a "/" s}' \
              "$T/$q.rsp" | sort | tr '\n' ' ')
    FINAL=$(grep -a "Final Find Response" "$T/$q.rsp" || true)
}
