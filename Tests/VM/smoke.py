#!/usr/bin/env python3
"""Harness self-test: boot with one legacy and one modern NIC, both given to
uio_pci_generic, and check the guest environment the drivers rely on.

Run alone (python3 Tests/VM/smoke.py) or through run.py, which runs it first.
"""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmlib  # noqa: E402
from vmlib import VM, check  # noqa: E402

SWIFT_HELLO = 'print("hello from swift")\n'


def swift_hello():
    """Path of a tiny Swift binary built on the host (cached), or None.

    Proves that Swift-built binaries run in the guest off the shared root.
    """
    swiftc = shutil.which("swiftc")
    if swiftc is None:
        return None
    out_dir = os.path.join(vmlib.WORK_DIR, "swift-hello")
    binary = os.path.join(out_dir, "hello")
    if not os.path.exists(binary):
        os.makedirs(out_dir, exist_ok=True)
        src = os.path.join(out_dir, "hello.swift")
        with open(src, "w") as f:
            f.write(SWIFT_HELLO)
        p = subprocess.run([swiftc, "-O", "-o", binary, src], capture_output=True,
                           text=True, timeout=300)
        if p.returncode != 0:
            print(f"  (swiftc failed, Swift check skipped: {p.stderr.strip()[:200]})")
            return None
    return binary


GUEST = r"""
for u in /sys/class/uio/uio*; do echo "uio ${u##*/} name=$(cat $u/name) dev=$(basename $(readlink $u/device))"; done
for a in 0000:00:04.0 0000:00:05.0; do
  echo "nic $a device=$(cat /sys/bus/pci/devices/$a/device) driver=$(basename $(readlink /sys/bus/pci/devices/$a/driver))"
  echo "bars $a:" $(cd /sys/bus/pci/devices/$a && ls resource?)
done
ls -l /dev/uio*
grep HugePages_ /proc/meminfo
grep hugetlbfs /proc/mounts
/usr/bin/env true && echo "host-binary ok"
[ -n "$SWIFT_BIN" ] && "$SWIFT_BIN"
exit 0
"""


def test_smoke():
    swift = swift_hello()
    script = f"SWIFT_BIN={swift or ''}\n" + GUEST
    with VM(nics=["legacy", "modern"], guest_script=script, timeout=90) as vm:
        boot = vm.wait_for_command(timeout=60)
        # QMP round trip works while the guest runs.
        check(vm.qmp("query-status")["status"] == "running", "QMP query-status")
        rc = vm.wait(timeout=60)
    out = vm.stdout or ""
    print(out.rstrip())
    print(f"  boot (QEMU launch to guest command): {boot:.2f} s")
    check(rc == 0, f"guest exit code {rc}; stderr: {vm.stderr}")
    for addr, dev in [("0000:00:04.0", "0x1000"), ("0000:00:05.0", "0x1041")]:
        check(f"nic {addr} device={dev} driver=uio_pci_generic" in out,
              f"{addr} not bound to uio_pci_generic")
        check(f"name=uio_pci_generic dev={addr}" in out, f"no uio node for {addr}")
    # Legacy virtio needs its I/O BAR0, modern its 64-bit BAR4 (see NOTES.md).
    check("bars 0000:00:04.0: resource0 resource1" in out, "legacy NIC: BAR0/BAR1 missing")
    check("bars 0000:00:05.0: resource1 resource4" in out, "modern NIC: BAR1/BAR4 missing")
    check("HugePages_Total:      64" in out, "64 hugepages not set up")
    check("/dev/hugepages hugetlbfs" in out, "hugetlbfs not mounted")
    check("host-binary ok" in out, "host binary did not run")
    if swift:
        check("hello from swift" in out, "Swift binary did not run in the guest")
    else:
        print("  (no swiftc: Swift binary check skipped)")


if __name__ == "__main__":
    test_smoke()
    print("smoke: ok")
