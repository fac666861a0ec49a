# Shared helpers for the integration tests (POSIX sh). Each test sources this,
# gets a fresh scratch directory in $T, and fails with a message saying what
# was expected. RADLINK, SRC and WORK come from ctest.
set -eu
: "${RADLINK:?RADLINK must point at the radlink binary}"
: "${SRC:?SRC must point at the source tree}"
: "${WORK:=${TMPDIR:-/tmp}}"
DATA=$SRC/tests/data
mkdir -p "$WORK"
T=$(mktemp -d "$WORK/$(basename "$0" .sh).XXXXXX")
PIDS=""
cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected [$2], got [$1]"; }
# expect_has HAYSTACK NEEDLE WHAT
expect_has() { case "$1" in *"$2"*) ;; *) fail "$3: [$2] not in [$1]";; esac; }
# expect_line TEXT ERE WHAT: some line of TEXT matches the extended regex
expect_line() { printf '%s\n' "$1" | grep -Eq -- "$2" || fail "$3: no line matches /$2/ in [$1]"; }
expect_not_has() { case "$1" in *"$2"*) fail "$3: [$2] unexpectedly in [$1]";; *) ;; esac; }
# run_rc CMD...: runs CMD, stores stdout in $OUT, stderr in $ERR, status in $RC.
run_rc() {
    set +e
    "$@" >"$T/out" 2>"$T/err"
    RC=$?
    set -e
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
}
expect_rc() { [ "$RC" = "$1" ] || fail "$2: exit status $RC, expected $1 (stderr: $ERR)"; }

# A TCP port that is free on 127.0.0.1 right now.
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for FILE TEXT [SECONDS]: wait until FILE contains TEXT.
wait_for() {
    i=0
    limit=$(( ${3:-10} * 10 ))
    while ! grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le $limit ] || fail "timed out waiting for [$2] in $1: $(tail -5 "$1" 2>/dev/null)"
        sleep 0.1
    done
}

# wait_exit PID SECONDS: wait for a background process; sets RC.
wait_exit() {
    i=0
    while kill -0 "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le $(($2 * 10)) ] || fail "process $1 did not exit within $2 s"
        sleep 0.1
    done
    set +e
    wait "$1"
    RC=$?
    set -e
}

# start_engine [ARGS...]: run radlink serve on a free port with data in
# $T/var (unless ARGS say otherwise); sets ENGINE_PID, PORT, ENGINE_LOG.
ENGINE_N=0
start_engine() {
    PORT=${PORT:-$(free_port)}
    DICOM_PORT=${DICOM_PORT:-$(free_port)}
    while [ "$DICOM_PORT" = "$PORT" ]; do DICOM_PORT=$(free_port); done
    HTTP_PORT=${HTTP_PORT:-$(free_port)}
    while [ "$HTTP_PORT" = "$PORT" ] || [ "$HTTP_PORT" = "$DICOM_PORT" ]; do HTTP_PORT=$(free_port); done
    ENGINE_N=$((ENGINE_N + 1))
    ENGINE_LOG=$T/engine.$ENGINE_N.log
    if [ -n "${PORTS_FROM_CONFIG:-}" ]; then
        "$RADLINK" serve --data "$T/var" --dicom "$DICOM_PORT" --http "$HTTP_PORT" "$@" >"$ENGINE_LOG" 2>&1 &
    else
        "$RADLINK" serve --data "$T/var" --mllp "$PORT" --dicom "$DICOM_PORT" --http "$HTTP_PORT" "$@" >"$ENGINE_LOG" 2>&1 &
    fi
    ENGINE_PID=$!
    PIDS="$PIDS $ENGINE_PID"
    i=0
    while ! grep -q "serve.start \|start_failed" "$ENGINE_LOG" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$ENGINE_PID" 2>/dev/null; then
            fail "engine did not start: $(cat "$ENGINE_LOG")"
        fi
        sleep 0.05
    done
    grep -q "start_failed" "$ENGINE_LOG" && fail "engine did not start: $(cat "$ENGINE_LOG")"
    return 0
}

# stop_engine: SIGTERM, expect a clean exit 0.
stop_engine() {
    kill -TERM "$ENGINE_PID"
    wait_exit "$ENGINE_PID" 15
    [ "$RC" = 0 ] || fail "engine exited with $RC: $(tail -5 "$ENGINE_LOG")"
}

# msg_count STATUS: number of log records with that status.
msg_count() {
    "$RADLINK" msg list --data "$T/var" --status "$1" --limit 100000000 | tail -n +2 | wc -l
}

# wait_cmd SECONDS ERE CMD...: run CMD again until a line of its output
# matches ERE (what a user would watch: `radlink status`, `jobs show`).
wait_cmd() {
    secs=$1 re=$2
    shift 2
    i=0
    until "$@" 2>&1 | grep -Eq -- "$re"; do
        i=$((i + 1))
        [ $i -le $((secs * 10)) ] || fail "timed out after $secs s waiting for /$re/ from $*: $("$@" 2>&1 | tail -12)"
        sleep 0.1
    done
}

# wait_job ID STATE SECONDS: `radlink jobs show ID` says STATE.
wait_job() {
    wait_cmd "$3" "^  state +$2$" "$RADLINK" jobs show --data "$T/var" "$1"
}

# wait_workers N SECONDS: the running engine reports N connected workers.
wait_workers() {
    wait_cmd "$2" "^worker $(($1 - 1)) " "$RADLINK" status --data "$T/var"
}

# make_study DIR FIRST LAST STUDY_UID ACCESSION PATIENT_ID NAME [MODALITY]:
# instances FIRST..LAST of one study (one series; SOP UIDs STUDY_UID.1.K) in DIR.
make_study() {
    mkdir -p "$1"
    "$DATA/make_dicom.sh" "$1/t.tmpl" "$4.1.$2" "$4" "$4.1" "$5" "$6" "$7" "${8:-CT}" 20261124 19700412 F
    k=$2
    while [ "$k" -le "$3" ]; do
        cp "$1/t.tmpl" "$1/i$k.dcm"
        dcmodify -nb -m "(0008,0018)=$4.1.$k" "$1/i$k.dcm" >/dev/null 2>&1 || fail "dcmodify"
        k=$((k + 1))
    done
    rm -f "$1/t.tmpl"
}

# sops FILES...: the SOP Instance UIDs of DICOM files, one per line, sorted.
sops() {
    dcmdump +P 0008,0018 "$@" 2>/dev/null | sed -n 's/.*UI \[\([^]]*\)\].*/\1/p' | sort
}

# make_pki DIR NAME...: a test CA (DIR/ca.pem, DIR/ca.key) and, for each
# NAME, a key and a certificate the CA signed (DIR/NAME.key, DIR/NAME.pem,
# for localhost and 127.0.0.1); DIR/stranger.key and .pem: self-signed, from
# no CA here. EC P-256 keys, valid two days, owner-only.
make_pki() {
    dir=$1
    shift
    mkdir -p "$dir"
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
    key "$dir/ca.key"
    openssl req -x509 -new -key "$dir/ca.key" -out "$dir/ca.pem" -days 2 \
        -subj "/CN=radlink test CA" 2>/dev/null || fail "openssl: the test CA"
    for who in "$@"; do
        key "$dir/$who.key"
        openssl req -new -key "$dir/$who.key" -out "$dir/$who.csr" \
            -subj "/CN=$who.radlink.test" 2>/dev/null
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$dir/$who.ext"
        openssl x509 -req -in "$dir/$who.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
            -CAcreateserial -out "$dir/$who.pem" -days 2 -extfile "$dir/$who.ext" 2>/dev/null ||
            fail "openssl: the certificate of $who"
    done
    key "$dir/stranger.key"
    openssl req -x509 -new -key "$dir/stranger.key" -out "$dir/stranger.pem" -days 2 \
        -subj "/CN=stranger" 2>/dev/null
    chmod 600 "$dir"/*.key
}

# start_orthanc NAME OVERWRITE [RADLINK_PORT]: Orthanc (Debian's package) as
# the PACS, with its own configuration and storage under $T/NAME, its DICOM
# and HTTP ports picked free (ORTHANC_DICOM, ORTHANC_HTTP); radlink's DICOM
# listener (RADLINK_PORT, default $DICOM_PORT, picked here when unset) is
# declared to it as the modality RADLINK, which it needs to answer queries
# and to send storage commitment reports. OVERWRITE: "true" or "false"
# (Orthanc's default). ORTHANC_EXTRA: more settings (JSON members, each
# followed by a comma); ORTHANC_RADLINK: radlink's modality entry instead.
start_orthanc() {
    DICOM_PORT=${DICOM_PORT:-$(free_port)}
    ORTHANC_DICOM=$(free_port)
    ORTHANC_HTTP=$(free_port)
    mkdir -p "$T/$1/db"
    modality=${ORTHANC_RADLINK:-"[ \"RADLINK\", \"127.0.0.1\", ${3:-$DICOM_PORT} ]"}
    cat >"$T/$1/orthanc.json" <<JSON
{
  "Name": "$1", "StorageDirectory": "$T/$1/db", "IndexDirectory": "$T/$1/db",
  "DicomAet": "ORTHANC", "DicomPort": $ORTHANC_DICOM, "HttpPort": $ORTHANC_HTTP,
  "RemoteAccessAllowed": false, "AuthenticationEnabled": false, "DicomCheckCalledAet": false,
  "OverwriteInstances": $2, "Plugins": [], "ConcurrentJobs": 1, ${ORTHANC_EXTRA:-}
  "DicomModalities": { "radlink": $modality }
}
JSON
    Orthanc "$T/$1/orthanc.json" >"$T/$1/orthanc.log" 2>&1 &
    PIDS="$PIDS $!"
    i=0
    until curl -sf "http://127.0.0.1:$ORTHANC_HTTP/system" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -le 100 ] || fail "Orthanc did not start: $(tail -5 "$T/$1/orthanc.log")"
        sleep 0.1
    done
}

# orthanc PATH: GET from the Orthanc started last (its REST API), on stdout.
orthanc() { curl -sf "http://127.0.0.1:$ORTHANC_HTTP$1"; }

# orthanc_tags STUDY_UID KEYWORD: that attribute of every instance Orthanc
# holds in the study, as its files say it (one line each, sorted).
orthanc_tags() {
    for id in $(curl -sf -X POST "http://127.0.0.1:$ORTHANC_HTTP/tools/find" \
                  -d "{\"Level\":\"Instance\",\"Query\":{\"StudyInstanceUID\":\"$1\"}}" |
                /usr/bin/python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))'); do
        orthanc "/instances/$id/simplified-tags" |
            /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin).get('$2',''))"
    done | sort
}

# orthanc_file STUDY_UID SOP_UID OUT: the instance's file as Orthanc keeps it.
orthanc_file() {
    id=$(curl -sf -X POST "http://127.0.0.1:$ORTHANC_HTTP/tools/find" \
            -d "{\"Level\":\"Instance\",\"Query\":{\"StudyInstanceUID\":\"$1\",\"SOPInstanceUID\":\"$2\"}}" |
         /usr/bin/python3 -c 'import json,sys; l=json.load(sys.stdin); print(l[0] if l else "")')
    [ -n "$id" ] || fail "Orthanc holds no instance $2"
    orthanc "/instances/$id/file" >"$3"
}
