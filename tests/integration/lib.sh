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
# skip WHY: this machine cannot run the test (ctest counts exit 77 as skipped).
skip() { echo "SKIP: $*" >&2; exit 77; }

# Time. A test waits for a state a user would see (a CLI answer, an ACK,
# what a peer holds), never for a fixed time; each wait's limit is in
# seconds of a plain build on an idle machine, multiplied by
# RADLINK_TIME_FACTOR (the sanitizer build sets it: everything is several
# times slower there, and more under load).
TIME_FACTOR=${RADLINK_TIME_FACTOR:-1}
scaled() { echo $(($1 * TIME_FACTOR)); }
# STABLE: the <jobs study-stable> (seconds) the tests set: a study's job
# waits that long after its last instance, so the instances one storescu
# run sends must all arrive within it, however slow the build
STABLE=$(scaled 1)
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
    /usr/bin/python3 "$SRC/tests/integration/free_port.py"
}

# wait_for FILE TEXT [SECONDS]: wait until FILE contains TEXT.
wait_for() {
    i=0
    limit=$(( $(scaled "${3:-10}") * 10 ))
    while ! grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le $limit ] || fail "timed out waiting for [$2] in $1: $(tail -5 "$1" 2>/dev/null)"
        sleep 0.1
    done
}

# wait_exit PID SECONDS: wait for a background process; sets RC.
wait_exit() {
    i=0
    limit=$(($(scaled "$2") * 10))
    while kill -0 "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le $limit ] || fail "process $1 did not exit within $(scaled "$2") s"
        sleep 0.1
    done
    set +e
    wait "$1"
    RC=$?
    set -e
}

# start_engine [ARGS...]: run radlink serve with data in $T/var (unless ARGS
# say otherwise). Its listeners bind ports the system picks (--mllp auto
# ...), unless PORT, DICOM_PORT or HTTP_PORT are set (a restart keeps them),
# and are read back from `radlink status`: it waits for the engine to say it
# listens. Sets ENGINE_PID, PORT, DICOM_PORT, HTTP_PORT, ENGINE_LOG. With an
# Orthanc started (start_orthanc), tells it where radlink listens.
ENGINE_N=0
start_engine() {
    ENGINE_N=$((ENGINE_N + 1))
    ENGINE_LOG=$T/engine.$ENGINE_N.log
    if [ -n "${PORTS_FROM_CONFIG:-}" ]; then
        "$RADLINK" serve --data "$T/var" --dicom "${DICOM_PORT:-auto}" --http "${HTTP_PORT:-auto}" \
            "$@" >"$ENGINE_LOG" 2>&1 &
    else
        "$RADLINK" serve --data "$T/var" --mllp "${PORT:-auto}" --dicom "${DICOM_PORT:-auto}" \
            --http "${HTTP_PORT:-auto}" "$@" >"$ENGINE_LOG" 2>&1 &
    fi
    ENGINE_PID=$!
    PIDS="$PIDS $ENGINE_PID"
    engine_listening "$@"
    [ -z "${ORTHANC_HTTP:-}" ] || [ -z "${DICOM_PORT:-}" ] || orthanc_knows_radlink
    return 0
}

# engine_listening [ARGS...]: wait until the engine started last says where
# it listens, and take its ports (the data directory from ARGS' --data).
engine_listening() {
    data=$T/var
    prev=
    for a in "$@"; do [ "$prev" = "--data" ] && data=$a; prev=$a; done
    i=0
    limit=$(($(scaled 20) * 10))
    until "$RADLINK" status --data "$data" 2>/dev/null | grep -q "^listening mllp"; do
        kill -0 "$ENGINE_PID" 2>/dev/null || fail "engine did not start: $(cat "$ENGINE_LOG")"
        i=$((i + 1))
        [ $i -le $limit ] || fail "engine did not say it listens: $(tail -5 "$ENGINE_LOG")"
        sleep 0.05
    done
    line=$("$RADLINK" status --data "$data" | grep "^listening mllp")
    PORT=$(printf '%s\n' "$line" | sed -n 's/^listening mllp [^ ,]*:\([0-9]*\).*/\1/p')
    p=$(printf '%s\n' "$line" | sed -n 's/.*, dicom [^ ,]*:\([0-9]*\).*/\1/p')
    [ -z "$p" ] || DICOM_PORT=$p
    p=$(printf '%s\n' "$line" | sed -n 's/.*, http [^ ,]*:\([0-9]*\).*/\1/p')
    [ -z "$p" ] || HTTP_PORT=$p
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
    secs=$(scaled "$1") re=$2
    shift 2
    i=0
    until "$@" 2>&1 | grep -Eq -- "$re"; do
        i=$((i + 1))
        [ $i -le $((secs * 10)) ] || fail "timed out after $secs s waiting for /$re/ from $*: $("$@" 2>&1 | tail -12)"
        sleep 0.1
    done
}

# wait_until SECONDS CONDITION: until the shell condition holds (a file a
# peer wrote, a count a CLI printed).
wait_until() {
    secs=$(scaled "$1")
    i=0
    until sh -c "$2"; do
        i=$((i + 1))
        [ $i -le $((secs * 10)) ] || fail "timed out after $secs s waiting for: $2"
        sleep 0.1
    done
}

# hold_port VAR: a port that is bound and not listening, held until the test
# ends: a peer that is down (a connection to it is refused at once), which no
# other test's engine can take meanwhile. Sets VAR to the port.
HELD_N=0
hold_port() {
    HELD_N=$((HELD_N + 1))
    held=$T/held.$HELD_N
    /usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(86400)' >"$held" &
    PIDS="$PIDS $!"
    wait_until 10 "[ -s '$held' ]"
    eval "$1=\$(cat '$held')"
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

# make_prior DIR STUDY DATE MODALITY PATIENT N: a prior study of N instances
# (SOP UIDs STUDY.1.1 ... STUDY.1.N) of patient PATIENT on DATE, as an
# archive holds it; its accession is ACC and DIR's name.
make_prior() {
    mkdir -p "$1"
    k=1
    while [ "$k" -le "$6" ]; do
        "$DATA/make_dicom.sh" "$1/i$k.dcm" "$2.1.$k" "$2" "$2.1" "ACC$(basename "$1")" "$5" \
            'DOE^JANE' "$4" "$3" 19700412 F
        k=$((k + 1))
    done
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
# and HTTP ports picked free (ORTHANC_DICOM, ORTHANC_HTTP: Orthanc cannot
# bind a port the system picks). radlink's DICOM listener is declared to it
# as the modality RADLINK, which it needs to answer queries and to send
# storage commitment reports: at RADLINK_PORT (default $DICOM_PORT) when it
# is known, else once start_engine knows it (orthanc_knows_radlink).
# OVERWRITE: "true" or "false" (Orthanc's default). ORTHANC_EXTRA: more
# settings (JSON members, each followed by a comma); ORTHANC_RADLINK:
# radlink's modality entry instead.
# start_slow_proxy UPSTREAM_PORT DELAY_MS [--max N]: slow_proxy.py in front
# of UPSTREAM_PORT on a port the system picks, which PROXY_PORT then holds;
# its output (a line "refused" per connection over --max) in $T/proxy.out
start_slow_proxy() {
    rm -f "$T/proxy.out" # a proxy started before left its "ready" line there
    /usr/bin/python3 "$SRC/tests/integration/slow_proxy.py" 0 "$@" >"$T/proxy.out" 2>&1 &
    PIDS="$PIDS $!"
    wait_for "$T/proxy.out" "^ready [0-9]" 10
    PROXY_PORT=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$T/proxy.out")
}

# start_orthanc_counting NAME: start_orthanc NAME false, with a Lua hook
# that sees every instance Orthanc receives (it keeps an instance it has
# once): $T/received gets a line per receipt (SOP Instance UID)
start_orthanc_counting() {
    cat >"$T/received.lua" <<LUA
function ReceivedInstanceFilter(dicom, origin, info)
   local f = io.open("$T/received", "a")
   f:write(dicom.SOPInstanceUID .. "\n")
   f:close()
   return true
end
LUA
    : >"$T/received"
    ORTHANC_EXTRA="\"LuaScripts\": [\"$T/received.lua\"]," start_orthanc "$1" false
}

start_orthanc() {
    # a port picked free can be taken before Orthanc binds it (another
    # test's connections): then again with others, a few times
    for attempt in 1 2 3 4 5; do
        start_orthanc_once "$@" && return 0
        note "Orthanc's port was taken before it bound it; new ports (attempt $attempt)"
    done
    fail "Orthanc did not start: $(tail -5 "$T/$1/orthanc.log")"
}

# start_orthanc_once NAME OVERWRITE [RADLINK_PORT]: 0 when Orthanc answers;
# 1 when it stopped because a port was in use.
start_orthanc_once() {
    ORTHANC_DICOM=$(free_port)
    ORTHANC_HTTP=$(free_port)
    mkdir -p "$T/$1/db"
    ORTHANC_PORT_OF_RADLINK=${3:-${DICOM_PORT:-}}
    ORTHANC_PORT_GIVEN=${3:+yes} # the test's own (a wrong one, on purpose)
    modality=${ORTHANC_RADLINK:-"[ \"RADLINK\", \"127.0.0.1\", ${ORTHANC_PORT_OF_RADLINK:-104} ]"}
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
    opid=$!
    PIDS="$PIDS $opid"
    i=0
    until curl -sf "http://127.0.0.1:$ORTHANC_HTTP/system" >/dev/null 2>&1; do
        if ! kill -0 "$opid" 2>/dev/null && grep -q "already in use" "$T/$1/orthanc.log"; then
            return 1
        fi
        i=$((i + 1))
        [ $i -le $(($(scaled 20) * 10)) ] || fail "Orthanc did not start: $(tail -5 "$T/$1/orthanc.log")"
        sleep 0.1
    done
}

# orthanc_knows_radlink: Orthanc's modality RADLINK at radlink's DICOM port
# (Orthanc's REST API), unless the test gave its own entry.
orthanc_knows_radlink() {
    [ -z "${ORTHANC_RADLINK:-}" ] && [ -z "${ORTHANC_PORT_GIVEN:-}" ] || return 0
    [ "${ORTHANC_PORT_OF_RADLINK:-}" = "$DICOM_PORT" ] && return 0
    curl -sf -X PUT "http://127.0.0.1:$ORTHANC_HTTP/modalities/radlink" \
        -d "{\"AET\": \"RADLINK\", \"Host\": \"127.0.0.1\", \"Port\": $DICOM_PORT}" >/dev/null ||
        fail "Orthanc did not take radlink's DICOM port"
    ORTHANC_PORT_OF_RADLINK=$DICOM_PORT
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
