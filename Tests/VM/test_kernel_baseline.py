"""Kernel baseline: the NIC stays with the guest kernel's driver (virtio_net, or igb for
QEMU's 82576 on QEMU 10).

Validates the tap path end to end (host netns -> tap -> QEMU -> guest) and
records the kernel's own ping rate, the figure the user-space echo server is
later compared against.  Also checks that QMP set_link reaches the guest.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import IGB_KIND, VM, check, qemu_version  # noqa: E402

GUEST = r"""
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6
# The initramfs has no igb module (so that uio_pci_generic can have the NIC): load it now,
# from the host's /lib/modules that the guest shares.
[ "$(cat /sys/bus/pci/devices/0000:00:04.0/vendor)" = 0x8086 ] && { modprobe igb || exit 3; }
# The interface name depends on probe order: find it through the PCI address.
IF=$(ls /sys/bus/pci/devices/0000:00:04.0/net/ 2>/dev/null || ls /sys/bus/pci/devices/0000:00:04.0/virtio*/net/)
echo "iface=$IF driver=$(basename $(readlink /sys/bus/pci/devices/0000:00:04.0/driver))"
ip addr add 192.0.2.2/24 dev $IF
ip link set $IF up
# igb's link comes up after auto-negotiation; virtio's at once.
i=0; while [ "$(cat /sys/class/net/$IF/carrier 2>/dev/null)" != 1 ] && [ $i -lt 200 ]; do i=$((i+1)); sleep 0.05; done
mark READY
# Report the carrier after each QMP set_link the host makes.
for phase in down up; do
  wait_host $phase 60 || exit 2
  want=0; [ $phase = up ] && want=1
  i=0; while [ "$(cat /sys/class/net/$IF/carrier)" != $want ] && [ $i -lt 100 ]; do
    i=$((i+1)); sleep 0.05; done
  mark "carrier-$phase=$(cat /sys/class/net/$IF/carrier)"
done
wait_host stop 60
"""


def ping(vm, *args):
    p = vm.netns_exec(["ping", "-n", "-q", *args, vm.guest_ip(0)], timeout=60)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
    check(m, f"ping output not understood: {p.stdout}{p.stderr}")
    return int(m.group(1)), int(m.group(2)), p.stdout


def test_kernel_baseline():
    run_kernel_baseline("legacy")


def test_kernel_baseline_igb():
    print(f"  [igb] {qemu_version([IGB_KIND])}")
    run_kernel_baseline(IGB_KIND)


def run_kernel_baseline(kind):
    with VM(nics=[kind], uio=False, guest_script=GUEST, timeout=120) as vm:
        boot = vm.wait_for_command(timeout=60)
        vm.wait_for_line(r"^READY", timeout=30)

        sent, got, out = ping(vm, "-c", "20", "-i", "0.05", "-W", "2")
        print(f"  [{kind}] ping 20: {got}/{sent} replies")
        check(got == 20, f"kernel driver of {kind} answered {got}/20 pings\n{out}")

        # Flood ping: the kernel's echo rate, for later comparison.
        sent, got, out = ping(vm, "-f", "-c", "2000", "-w", "20")
        m = re.search(r"time (\d+)ms", out)
        ms = int(m.group(1)) if m else 0
        rate = f"{got / (ms / 1000):.0f} round trips/s" if ms else "n/a"
        print(f"  [{kind}] ping -f 2000: {got}/{sent} in {ms} ms ({rate})")

        for phase, up in [("down", False), ("up", True)]:
            vm.set_link(0, up)
            vm.write_file(phase)
            m = vm.wait_for_line(rf"^carrier-{phase}=(\d)", timeout=20)
            print(f"  [{kind}] QMP set_link {phase}: guest carrier={m.group(1)}")
            check(m.group(1) == ("1" if up else "0"), f"set_link {phase} not seen by guest")
        vm.write_file("stop")
        rc = vm.wait(timeout=30)
    print(f"  boot: {boot:.2f} s")
    check(rc == 0, f"guest exit code {rc}; stderr: {vm.stderr}")
