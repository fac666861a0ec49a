#!/bin/sh
# DICOM routes, in one run: one study of N CT instances received by radlink
# goes through a route file of three DICOM routes (an <on-receive> fix, a
# route with coercions to two destinations, one of them with its own
# coercion and Explicit VR Little Endian; a third route that does not take
# it), each destination by its own job, to two DCMTK storescp archives.
# Beside it, DCMTK's dcmsend sends the same N instances unchanged to both
# archives, one after the other: what a site would script without radlink.
# radlink's time runs from the instances' reception ending to both jobs
# done (read from `radlink jobs list` every 20 ms; it includes the 1 s the
# study must be stable before it is sent); both archives are
# checked to hold N instances each.
# Usage: droute_bench.sh [--smoke]
#   RADLINK  the radlink binary (default build/radlink)   WORK  scratch dir
set -eu
export TCP_NODELAY=1
here=$(cd "$(dirname "$0")" && pwd)
n=500
[ "${1:-}" = "--smoke" ] && n=20
radlink=${RADLINK:-$here/../../build/radlink}
work=${WORK:-$(mktemp -d)}/bench_droute
rm -rf "$work"
mkdir -p "$work"
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done' EXIT
. "$here/lib.sh"

# N instances of one study, a chest CT from CT_1
mkdir -p "$work/in"
"$here/../data/make_dicom.sh" "$work/t.dcm" 1.2.996.1.1.1 1.2.996.1 1.2.996.1.1 A1 P1 'DOE^JANE' CT 20261124 19700412 F
dcmodify -nb -i "BodyPartExamined=CHEST" -i "PatientComments=bench" -i "StationName=OLD" "$work/t.dcm" >/dev/null 2>&1
i=1
while [ $i -le "$n" ]; do
    cp "$work/t.dcm" "$work/in/i$i.dcm"
    dcmodify -nb -m "(0008,0018)=1.2.996.1.1.$i" "$work/in/i$i.dcm" >/dev/null 2>&1
    i=$((i + 1))
done

# archive NAME AE: a storescp taking every transfer syntax into $work/NAME,
# its port in $p (not a subshell: its pid must reach the EXIT trap)
archive() {
    mkdir -p "$work/$1"
    for attempt in 1 2 3 4 5; do
        p=$(port)
        storescp -aet "$2" +xa -od "$work/$1" -uf "$p" >"$work/$1.log" 2>&1 &
        pids="$pids $!"
        bench_up $! echoscu -aec "$2" 127.0.0.1 "$p" && return 0
    done
    echo "storescp $1 did not start: $(tail -3 "$work/$1.log")" >&2
    exit 1
}
count() { find "$work/$1" -type f | wc -l; }
archive pacs PACS
pacs=$p
archive ai AI
ai=$p

cat >"$work/routes.xml" <<'XML'
<routes default="accept">
  <dicom-routes default="hold">
    <on-receive name="station">
      <match calling-ae="CT_*"/>
      <set keyword="StationName" value="CT_1"/>
    </on-receive>
    <dicom-route name="mammo">
      <match modality="MG"/>
      <send to="PACS"/>
    </dicom-route>
    <dicom-route name="chest-ct">
      <match modality="CT" calling-ae="CT_*"/>
      <when keyword="BodyPartExamined" equals="CHEST"/>
      <set keyword="InstitutionName" value="General Hospital"/>
      <send to="PACS"/>
      <send to="AI" transfer-syntax="explicit-little"><remove keyword="PatientComments"/></send>
    </dicom-route>
  </dicom-routes>
</routes>
XML
cat >"$work/cfg.xml" <<XML
<radlink>
  <dicom>
    <pacs ae="PACS" host="127.0.0.1" port="$pacs" verify="none"/>
    <node ae="AI" host="127.0.0.1" port="$ai" verify="none"/>
  </dicom>
  <jobs workers="2" study-stable="1"/>
  <recon unmatched="forward"/>
  <routes file="$work/routes.xml"/>
</radlink>
XML
bench_serve 1

t_recv0=$(now_ms)
storescu -aet CT_1 -aec RADLINK 127.0.0.1 "$rport" "$work/in"/*.dcm >"$work/scu.out" 2>&1 ||
    { cat "$work/scu.out" >&2; exit 1; }
t_recv=$(now_ms)
i=0
while :; do
    jl=$("$radlink" jobs list --data "$work/var")
    done_n=$(printf '%s\n' "$jl" | grep -Ec '^ *[0-9]+ +done +study ' || true)
    [ "$done_n" -ge 2 ] && break
    if "$radlink" jobs list --data "$work/var" | grep -Eq '^ *[0-9]+ +(dead|failed|unverified) '; then
        "$radlink" jobs list --data "$work/var" >&2
        exit 1
    fi
    i=$((i + 1))
    [ $i -lt 30000 ] || { echo "the jobs did not end" >&2; exit 1; }
    sleep 0.02
done
t_sent=$(now_ms)
[ "$(count pacs)" = "$n" ] && [ "$(count ai)" = "$n" ] ||
    { echo "the archives hold $(count pacs) and $(count ai) of $n" >&2; exit 1; }
f=$(find "$work/ai" -type f | head -1)
dcmdump "$f" | grep -q "^(0010,4000)" && { echo "the AI archive got PatientComments" >&2; exit 1; }
dcmdump "$f" | grep -q "General Hospital" || { echo "the AI archive lacks the coercion" >&2; exit 1; }
rm -rf "$work/pacs"/* "$work/ai"/*

t0=$(now_ms)
dcmsend -aec PACS 127.0.0.1 "$pacs" "$work/in"/*.dcm >"$work/send1.out" 2>&1 || { cat "$work/send1.out" >&2; exit 1; }
dcmsend -aec AI 127.0.0.1 "$ai" "$work/in"/*.dcm >"$work/send2.out" 2>&1 || { cat "$work/send2.out" >&2; exit 1; }
send=$(( $(now_ms) - t0 ))
[ "$(count pacs)" = "$n" ] && [ "$(count ai)" = "$n" ] || { echo "dcmsend: the archives lack instances" >&2; exit 1; }

routed=$((t_sent - t_recv))
[ "$routed" -gt 0 ] || routed=1

recv=$((t_recv - t_recv0))
rate() { echo $(( $1 * 1000 / $2 )); }
echo "One study of $n CT instances to two storescp archives, same machine, same run:"
printf '%-72s %8s %8s\n' "" "inst/s" "ms"
printf '%-72s %8s %8s\n' "radlink receiving them (storescu -> radlink: spooled, indexed, decided)" "$(rate "$n" "$recv")" "$recv"
printf '%-72s %8s %8s\n' "radlink routing them: 3 DICOM routes, coerced, sent to both (2 jobs)" "$(rate $((2 * n)) "$routed")" "$routed"
busy=$((routed - 1000)) # the study must be stable 1 s before its jobs start
[ "$busy" -gt 0 ] || busy=1
printf '%-72s %8s %8s\n' "  the same, less the 1 s the study must be stable" "$(rate $((2 * n)) "$busy")" "$busy"
printf '%-72s %8s %8s\n' "dcmsend, unchanged, to both one after the other" "$(rate $((2 * n)) "$send")" "$send"
echo "radlink routing rate / dcmsend rate: $(awk "BEGIN{printf \"%.2f\", $send / $routed}"), less the stable wait $(awk "BEGIN{printf \"%.2f\", $send / $busy}")"
