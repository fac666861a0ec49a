#!/bin/sh
# A newcomer's tour: run from the top of the source tree after `make build`.
set -eu
R=${RADLINK:-./build/radlink}
M=examples/messages

echo "== the order as a tree, every label a path 'hl7 get' accepts"
$R hl7 show $M/order_nw.hl7 | head -25
echo
echo "== single values by path"
for p in PID-3 'PID-3[2].1' PID-5.1 OBR-4.2 MSH-9.2; do
    printf '%-12s ' "$p"; $R hl7 get $M/order_nw.hl7 "$p" | paste -sd' ' -
done
echo
echo "== the ACK the engine would send, and an AE with a reason"
$R hl7 ack $M/order_nw.hl7
$R hl7 ack --code AE --text "unknown procedure code 71020" $M/order_nw.hl7
echo
echo "== every message of a batch file"
$R hl7 get $M/batch.hl7 MSH-10
echo
echo "== a route file: check it, then dry-run an order through it"
$R routes check examples/routes.xml
$R routes test examples/routes.xml $M/order_nw.hl7 | head -30
