# Helpers the benchmarks share (sourced): a free port, the time in ms, and
# Orthanc (Debian's package) started on free ports for a run.
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }

# bench_orthanc DIR RADLINK_PORT: Orthanc storing in DIR, knowing radlink's
# DICOM listener as the modality RADLINK (for its storage commitment
# reports); sets odicom and ohttp, adds its pid to pids.
bench_orthanc() {
    # a port picked free can be taken before Orthanc binds it: again with others
    for attempt in 1 2 3 4 5; do
        bench_orthanc_once "$@" && return 0
    done
    echo "Orthanc did not start: $(tail -3 "$1/orthanc.log")" >&2
    exit 1
}
bench_orthanc_once() {
    odicom=$(port) ohttp=$(port)
    mkdir -p "$1/orthanc"
    cat >"$1/orthanc.json" <<JSON
{
  "Name": "bench", "StorageDirectory": "$1/orthanc", "IndexDirectory": "$1/orthanc",
  "DicomAet": "ORTHANC", "DicomPort": $odicom, "HttpPort": $ohttp,
  "RemoteAccessAllowed": false, "AuthenticationEnabled": false, "DicomCheckCalledAet": false,
  "Plugins": [], "DicomModalities": { "radlink": [ "RADLINK", "127.0.0.1", $2 ] }
}
JSON
    Orthanc "$1/orthanc.json" >"$1/orthanc.log" 2>&1 &
    opid=$!
    pids="$pids $opid"
    i=0
    until curl -sf "http://127.0.0.1:$ohttp/system" >/dev/null 2>&1; do
        if ! kill -0 "$opid" 2>/dev/null && grep -q "already in use" "$1/orthanc.log"; then
            return 1
        fi
        i=$((i + 1))
        [ $i -lt 200 ] || { echo "Orthanc did not start" >&2; exit 1; }
        sleep 0.05
    done
}

# bench_serve WORKER: radlink serving $work/cfg.xml on $work/var (MLLP on
# $mport, DICOM on $rport), until its worker WORKER is connected; adds its
# pid to pids.
bench_serve() {
    "$radlink" serve --http 0 --config "$work/cfg.xml" --data "$work/var" --mllp "$mport" \
        --dicom "$rport" --log-level ${LOG_LEVEL:-warn} >"$work/radlink.log" 2>&1 &
    pids="$pids $!"
    i=0
    until "$radlink" status --data "$work/var" 2>/dev/null | grep -q "^worker $1 "; do
        i=$((i + 1))
        [ $i -lt 400 ] || { echo "radlink did not start: $(tail -3 "$work/radlink.log")" >&2; exit 1; }
        sleep 0.05
    done
}

# bench_listening DATA LOG: wait until the engine serving DATA says its MLLP
# listener is up (LOG: its output, shown when it does not come up)
bench_listening() {
    i=0
    until "$radlink" status --data "$1" 2>/dev/null | grep -q "^listening mllp"; do
        i=$((i + 1))
        [ $i -lt 2000 ] || { echo "radlink did not start: $(tail -3 "$2")" >&2; exit 1; }
        sleep 0.05
    done
}
