#!/bin/sh
# Functions radlink's code does not call (STYLE.md, after curl's checksrc):
# unbounded or unchecked forms whose bounded, checked replacements exist.
# Fails, naming file and line, when engine/ or adapters/ use one; fails too
# when grep itself cannot search (a directory gone, a bad pattern): only its
# status 1 means "no match".
set -eu
src=${SRC:?SRC must point at the source tree}
set +e
hits=$(grep -rnE '(^|[^A-Za-z0-9_>.])(atoi|atol|atoll|sscanf|strcpy|strcat|strncpy|sprintf|vsprintf|strtok|gets)[[:space:]]*\(' \
    "$src/engine" "$src/adapters" --include='*.c' --include='*.h' --include='*.cc')
rc=$?
set -e
case $rc in
0)
    echo "banned functions used (use rl_str_to_u64, snprintf, memcpy with a checked length...):" >&2
    echo "$hits" >&2
    exit 1
    ;;
1) ;;
*)
    echo "grep could not search engine/ and adapters/ (exit status $rc)" >&2
    [ -z "$hits" ] || echo "$hits" >&2
    exit 2
    ;;
esac
echo "no banned function in engine/ or adapters/"
