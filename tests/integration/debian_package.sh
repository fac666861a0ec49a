#!/bin/sh
# The Debian package, installed, run, upgraded and purged in a root of its
# own: this machine's / seen through an overlay whose changes go to a
# tmpfs, in a private mount namespace, chrooted. The machine's own packages,
# users and /etc are never touched. Where no such root can be made (not
# root, no overlayfs, no mount namespace), the test is skipped (exit 77).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "a throwaway root needs root"
command -v unshare >/dev/null && command -v chroot >/dev/null || skip "no unshare or chroot"
mkdir -p "$T/ovl" "$T/root"
state() { dpkg-query -W -f='${Status} ${Version}' radlink 2>/dev/null || true; ls -d /var/lib/radlink /etc/radlink 2>/dev/null || true; getent passwd radlink || true; }
BEFORE=$(state)
cat >"$T/inside.sh" <<SH
set -eu
mount -t tmpfs tmpfs "$T/ovl"
mkdir "$T/ovl/upper" "$T/ovl/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$T/ovl/upper,workdir=$T/ovl/work" "$T/root" ||
    exit 77
mount --rbind /dev "$T/root/dev"
mount -t proc proc "$T/root/proc"
mount -t sysfs sysfs "$T/root/sys" 2>/dev/null || true
for d in /run /tmp; do
    mount -t tmpfs tmpfs "$T/root\$d"
done
# the sources and the binary under test, wherever the clone lives (under
# /tmp too, which the tmpfs above hides), then a work directory of its own
for d in "$SRC" "$(dirname "$RADLINK")"; do
    mkdir -p "$T/root\$d"
    mount --bind "\$d" "$T/root\$d"
done
mkdir -p "$T/root$WORK"
mount -t tmpfs tmpfs "$T/root$WORK"
mkdir -p "$T/root${TMPDIR:-/tmp}"
exec chroot "$T/root" env RADLINK_THROWAWAY_ROOT=yes RADLINK="$RADLINK" SRC="$SRC" \
    WORK="$WORK" RADLINK_TIME_FACTOR="$TIME_FACTOR" PATH="$PATH" \
    sh "$SRC/tests/integration/debian_package_root.sh"
SH
set +e
unshare --mount --propagation private sh "$T/inside.sh"
RC=$?
set -e
[ $RC != 77 ] || skip "no overlay of / could be mounted here"
[ $RC = 0 ] || fail "the package test in its throwaway root: exit $RC"
expect_eq "$(state)" "$BEFORE" "this machine's packages, users and directories are as they were"
echo "PASS"
