# Helpers the benchmarks share (sourced, with $here the benchmarks' directory
# and $radlink the engine): a free port for a peer that must be given one
# (radlink itself binds ports the system picks, read back by bench_ports),
# the time in ms, and Orthanc (Debian's package) started on free ports.
port() { /usr/bin/python3 "$here/../integration/free_port.py"; }
now_ms() { date +%s%3N; }

# bench_orthanc DIR: Orthanc storing in DIR; sets odicom and ohttp, adds its
# pid to pids and its HTTP port to orthancs (bench_serve then tells each one
# radlink's DICOM listener as the modality RADLINK, for its storage
# commitment reports).
bench_orthanc() {
    # a port picked free can be taken before Orthanc binds it: again with others
    for attempt in 1 2 3 4 5; do
        bench_orthanc_once "$@" && { orthancs="${orthancs:-} $ohttp"; return 0; }
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
  "Plugins": []
}
JSON
    Orthanc "$1/orthanc.json" >"$1/orthanc.log" 2>&1 &
    opid=$!
    pids="$pids $opid"
    i=0
    until curl -sf "http://127.0.0.1:$ohttp/system" >/dev/null 2>&1; do
        if ! kill -0 "$opid" 2>/dev/null; then
            grep -q "already in use" "$1/orthanc.log" && return 1
            echo "Orthanc did not start: $(tail -3 "$1/orthanc.log")" >&2
            exit 1
        fi
        i=$((i + 1))
        [ $i -lt 2000 ] || { echo "Orthanc did not start" >&2; exit 1; }
        sleep 0.05
    done
}

# bench_serve WORKER: radlink serving $work/cfg.xml on $work/var, its MLLP and
# DICOM listeners on ports the system picks (read back into mport and
# rport), until its worker WORKER is connected; adds its pid to pids and
# tells every Orthanc bench_orthanc started where radlink's DICOM port is.
bench_serve() {
    "$radlink" serve --http 0 --config "$work/cfg.xml" --data "$work/var" --mllp auto \
        --dicom auto --log-level ${LOG_LEVEL:-warn} >"$work/radlink.log" 2>&1 &
    pids="$pids $!"
    bench_ports "$work/var" "$work/radlink.log" $!
    for h in ${orthancs:-}; do
        curl -sf -X PUT "http://127.0.0.1:$h/modalities/radlink" \
            -d "{\"AET\": \"RADLINK\", \"Host\": \"127.0.0.1\", \"Port\": $rport}" >/dev/null ||
            { echo "Orthanc on $h did not take radlink's DICOM port" >&2; exit 1; }
    done
    i=0
    until "$radlink" status --data "$work/var" 2>/dev/null | grep -q "^worker $1 "; do
        i=$((i + 1))
        [ $i -lt 2000 ] || { echo "radlink's worker did not connect: $(tail -3 "$work/radlink.log")" >&2; exit 1; }
        sleep 0.05
    done
}

# bench_ports DATA LOG [PID]: wait until the engine serving DATA listens, and read
# back the ports it bound (those given as auto): mport, rport (DICOM) and
# hport (HTTP), each empty where that listener is off. LOG: its output.
bench_ports() {
    bench_listening "$@"
    line=$("$radlink" status --data "$1" | grep "^listening mllp")
    mport=$(printf '%s\n' "$line" | sed -n 's/^listening mllp [^ ,]*:\([0-9]*\).*/\1/p')
    rport=$(printf '%s\n' "$line" | sed -n 's/.*, dicom [^ ,]*:\([0-9]*\).*/\1/p')
    hport=$(printf '%s\n' "$line" | sed -n 's/.*, http [^ ,]*:\([0-9]*\).*/\1/p')
}

# bench_listening DATA LOG [PID]: wait until the engine serving DATA says its
# MLLP listener is up (LOG: its output, shown when it does not come up; PID:
# the engine's, whose exit ends the wait at once)
bench_listening() {
    i=0
    until "$radlink" status --data "$1" 2>/dev/null | grep -q "^listening mllp"; do
        if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then
            echo "radlink did not start: $(tail -3 "$2")" >&2
            exit 1
        fi
        i=$((i + 1))
        [ $i -lt 2000 ] || { echo "radlink did not start: $(tail -3 "$2")" >&2; exit 1; }
        sleep 0.05
    done
}

# bench_up PID CMD...: wait until CMD succeeds while PID (a peer the
# benchmark started on a port picked free) still runs; returns 1 once PID has
# exited, as when another process took the port first: the caller then
# starts it again on another port
bench_up() {
    up_pid=$1
    shift
    i=0
    until "$@" >/dev/null 2>&1 && kill -0 "$up_pid" 2>/dev/null; do
        kill -0 "$up_pid" 2>/dev/null || return 1
        i=$((i + 1))
        [ $i -lt 2000 ] || { echo "$1 did not come up" >&2; exit 1; }
        sleep 0.05
    done
}

# bench_ready FILE PID: wait until the peer PID, started on port 0, writes
# "ready PORT" to FILE (which must not exist before the peer starts: a
# line left there would be read before the peer empties it); sets
# ready_port
bench_ready() {
    i=0
    until grep -q "^ready [0-9]" "$1" 2>/dev/null; do
        kill -0 "$2" 2>/dev/null || { echo "a peer did not start: $(tail -3 "$1")" >&2; exit 1; }
        i=$((i + 1))
        [ $i -lt 2000 ] || { echo "a peer did not start: $(tail -3 "$1")" >&2; exit 1; }
        sleep 0.05
    done
    ready_port=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$1" | head -1)
}
