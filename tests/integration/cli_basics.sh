#!/bin/sh
# The CLI contract: help for every level, exit 2 with a one-line reason for
# unknown verbs and bad flags, and the version verb.
. "$(dirname "$0")/lib.sh"

run_rc "$RADLINK" --help
expect_rc 0 "radlink --help"
for v in serve hl7 version; do expect_has "$OUT" "  $v " "radlink --help lists $v"; done

run_rc "$RADLINK"
expect_rc 2 "radlink without a verb"

run_rc "$RADLINK" bogus
expect_rc 2 "unknown verb"
expect_eq "$ERR" "radlink: unknown verb 'bogus' (see 'radlink --help')" "unknown verb message"

run_rc "$RADLINK" --bogus
expect_rc 2 "unknown top-level option"
expect_eq "$(echo "$ERR" | wc -l)" 1 "one line"

run_rc "$RADLINK" hl7 --help
expect_rc 0 "radlink hl7 --help"
for v in get show ack; do expect_has "$OUT" "  $v " "hl7 help lists $v"; done

run_rc "$RADLINK" hl7
expect_rc 2 "radlink hl7 without a verb"

run_rc "$RADLINK" hl7 bogus
expect_rc 2 "unknown hl7 verb"
expect_eq "$ERR" "radlink hl7: unknown verb 'bogus' (see 'radlink hl7 --help')" "unknown sub-verb"

run_rc "$RADLINK" hl7 get --help
expect_rc 0 "hl7 get --help"
expect_has "$OUT" "usage: radlink hl7 get [OPTIONS] FILE PATH" "hl7 get usage"

run_rc "$RADLINK" hl7 get --bogus x y
expect_rc 2 "bad flag"
expect_eq "$ERR" "radlink hl7 get: unknown option '--bogus' (see 'radlink hl7 get --help')" "bad flag message"

run_rc "$RADLINK" hl7 ack -c
expect_rc 2 "missing option value"
expect_has "$ERR" "needs a value" "missing value message"

run_rc "$RADLINK" hl7 get onlyonearg
expect_rc 2 "missing argument"
expect_has "$ERR" "expected FILE and PATH" "missing argument message"

run_rc "$RADLINK" serve --http 0 --mllp notaport
expect_rc 2 "bad port"
expect_has "$ERR" "--mllp: 'notaport' is not a number from 1 to 65535" "bad port message"

run_rc "$RADLINK" serve --http 0 extra
expect_rc 2 "stray argument"

run_rc "$RADLINK" version
expect_rc 0 "version"
expect_has "$OUT" "radlink 0." "version line"
expect_has "$OUT" "LMDB" "library versions"
run_rc "$RADLINK" --version
expect_rc 0 "--version"
echo "ok"
