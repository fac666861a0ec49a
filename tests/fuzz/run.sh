#!/bin/sh
# Run a libFuzzer target for a bounded time: run.sh BINARY SECONDS SEEDS WORKDIR.
# New inputs go to WORKDIR/corpus (never into the source tree); a crash fails
# the test and leaves its input in WORKDIR.
set -eu
bin=$1 seconds=$2 seeds=$3 work=$4
mkdir -p "$work/corpus"
cd "$work"
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 corpus "$seeds"
