#!/bin/sh
# Route and config files take no DTD: an internal entity referenced fifty
# thousand times (150 KB of file, 50 MB expanded) stalled reloads and ran
# `routes check` for minutes; now it is refused at once, naming the line.
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 - "$T/many.xml" <<'PY'
import sys
x = 'x' * 1000
with open(sys.argv[1], 'w') as f:
    f.write('<?xml version="1.0"?>\n<!DOCTYPE routes [\n <!ENTITY x "%s">\n]>\n' % x)
    f.write('<routes default="reject" default-text="%s">\n' % ('&x;' * 50000))
    f.write('  <route name="r"><match type="ADT^A01"/><accept/></route>\n</routes>\n')
PY
start=$(date +%s)
set +e
timeout 20 "$RADLINK" routes check "$T/many.xml" >"$T/out" 2>&1
RC=$?
set -e
[ "$RC" -ne 124 ] || fail "routes check still expanding after 20 s"
expect_rc 3 "refused"
[ $(( $(date +%s) - start )) -le 5 ] || fail "refused, but slowly"
expect_has "$(cat "$T/out")" "many.xml:2: a DTD (<!DOCTYPE>) is not allowed" "names the line"

printf '<?xml version="1.0"?>\n<!DOCTYPE radlink [<!ENTITY d "var">]>\n<radlink><data dir="&d;"/></radlink>\n' >"$T/cfg.xml"
run_rc "$RADLINK" serve --http 0 --config "$T/cfg.xml" --mllp auto --dicom 0
expect_rc 3 "a config with a DTD"
expect_has "$ERR$OUT" "cfg.xml:2: a DTD (<!DOCTYPE>) is not allowed" "names the line"
note "ok"
