"""udev rules and `uioctl bind`/`unbind` in the guest, on the real uio_pci_generic.

The harness leaves the NIC to the kernel (uio=False: virtio-pci + virtio_net), so whatever
binds it to uio_pci_generic is the code under test.

test_udev_rules_group_access:
1. systemd-udevd runs; `uioctl udev install` writes the project's rules, helper and config
   into the guest's overlay (/etc/udev/rules.d, ...), creates the group `uio`, reloads udev
   and triggers the NIC. The NIC ends up on uio_pci_generic by udev alone (no uioctl bind).
2. /dev/uio0 and the sysfs config and resourceN files are root:uio 0660.
3. A non-root member of `uio` runs the echo server, and the host pings it. The binary is a
   copy with the file capability cap_sys_admin+ep: without CAP_SYS_ADMIN /proc/self/pagemap
   reads frame 0 and the core refuses (UIOError.pagemapNeedsCapSysAdmin). No CAP_SYS_RAWIO,
   so the legacy I/O BAR goes through pread/pwrite on resource0, which the group may use.
   (CAP_SYS_ADMIN does not bypass file permissions, so the group still decides.)
4. A user outside the group, with the same binary, gets UIOError.permissionDenied; and
   `uioctl bind` as that user says it needs root.
5. `uioctl udev uninstall` removes the files and gives the NIC back to virtio-pci.

test_bind_unbind_round_trip: `uioctl bind` refuses the NIC while its interface is up with an
address, binds it once down, refuses twice, and `unbind` gives it back to virtio_net: the
interface reappears and answers ping. Plus the clear errors: no such device, no such module.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import VM, check  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SWIFT_UIO_BIN", os.path.join(REPO, ".build", "release"))
ADDR = "0000:00:04.0"

COMMON = f"""
BIN={BIN}
ADDR={ADDR}
DEV=/sys/bus/pci/devices/$ADDR
driver() {{ [ -e $DEV/driver ] && basename $(readlink $DEV/driver) || echo none; }}
iface() {{ ls $DEV/virtio*/net/ 2>/dev/null; }}
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6
"""

UDEV_GUEST = COMMON + f"""
echo "before: driver=$(driver) iface=$(iface)"
/lib/systemd/systemd-udevd --daemon || {{ echo "udevd failed"; exit 1; }}
cat > /tmp/swift-uio.conf <<EOF
group uio
pci $ADDR
EOF
$BIN/uioctl udev install --config /tmp/swift-uio.conf; echo "install-rc=$?"
udevadm settle --timeout=30
echo "after-install: driver=$(driver)"
for f in /dev/uio0 $DEV/config $DEV/resource0 $DEV/resource1; do echo "perm $f $(stat -c '%U:%G %a' $f)"; done

useradd -M -U -s /bin/sh -G uio alice && useradd -M -U -s /bin/sh bob || {{ echo "useradd failed"; exit 1; }}
echo "alice: $(id alice)"; echo "bob: $(id bob)"
cp $BIN/echo-server /usr/local/bin/echo-server-cap
setcap cap_sys_admin+ep /usr/local/bin/echo-server-cap && echo "caps: $(getcap /usr/local/bin/echo-server-cap)"
as() {{ u=$1; shift; setpriv --reuid=$u --regid=$u --init-groups "$@"; }}

# setpriv execs the server: $! is the server itself (a shell function would add a subshell).
setpriv --reuid=alice --regid=alice --init-groups /usr/local/bin/echo-server-cap $ADDR --ip 192.0.2.2/24 \
  > /results/alice.log 2>&1 &
PID=$!
i=0; while ! grep -q ready /results/alice.log; do
  i=$((i+1)); [ $i -gt 600 ] && {{ echo "server did not start"; cat /results/alice.log; exit 1; }}
  kill -0 $PID 2>/dev/null || {{ echo "server died"; cat /results/alice.log; exit 1; }}
  sleep 0.1; done
echo "server-user=$(stat -c %U /proc/$PID) $(grep CapEff /proc/$PID/status)"
mark READY-ECHO
wait_host stop-echo 300
kill -TERM $PID; wait $PID; echo "alice-server-exit=$?"

as bob /usr/local/bin/echo-server-cap $ADDR --ip 192.0.2.2/24 > /results/bob.log 2>&1; echo "bob-server-exit=$?"
echo "bob-server: $(cat /results/bob.log)"
as bob $BIN/uioctl unbind $ADDR > /results/bob-unbind.log 2>&1; echo "bob-unbind-exit=$?"
echo "bob-unbind: $(cat /results/bob-unbind.log)"

$BIN/uioctl udev uninstall; echo "uninstall-rc=$?"
echo "after-uninstall: driver=$(driver) iface=$(iface)"
for f in /etc/udev/rules.d/99-swift-uio.rules /usr/local/lib/swift-uio/swift-uio-bind /etc/swift-uio/swift-uio.conf; do
  [ -e $f ] && echo "left: $f"; done
for f in $DEV/config $DEV/resource0; do echo "perm-after $f $(stat -c '%U:%G %a' $f)"; done
"""


def ping(vm, count):
    p = vm.netns_exec(["ping", "-c", str(count), "-i", "0.05", "-W", "2", vm.guest_ip(0)], timeout=120)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
    check(m is not None, f"ping output: {p.stdout} {p.stderr}")
    return int(m.group(2))


def test_udev_rules_group_access():
    with VM(nics=["legacy"], uio=False, guest_script=UDEV_GUEST, timeout=420) as vm:
        vm.wait_for_line(r"^READY-ECHO", timeout=240)
        got = ping(vm, 10)
        print(f"  ping 10 to the echo server run by alice (group uio): {got} replies")
        vm.write_file("stop-echo")
        rc = vm.wait(timeout=180)
    out = vm.stdout or ""
    print("\n".join("  " + l for l in out.splitlines()))
    check(rc == 0, f"guest exit {rc}: {out} {vm.stderr}")
    check(got == 10, f"ping the non-root echo server: {got}/10")
    check("before: driver=virtio-pci" in out, f"the harness must leave the NIC to virtio-pci: {out}")
    check("install-rc=0" in out, f"uioctl udev install failed: {out} {vm.stderr}")
    check("after-install: driver=uio_pci_generic" in out, f"udev did not bind the NIC: {out} {vm.stderr}")
    for f in ["/dev/uio0", f"/sys/bus/pci/devices/{ADDR}/config",
              f"/sys/bus/pci/devices/{ADDR}/resource0", f"/sys/bus/pci/devices/{ADDR}/resource1"]:
        check(f"perm {f} root:uio 660" in out, f"{f} must be root:uio 0660: {out}")
    check("server-user=alice" in out and "alice-server-exit=0" in out, f"alice's echo server: {out}")
    check("bob-server-exit=0" not in out, f"bob must not run the echo server: {out}")
    check(re.search(r"bob-server: .*permission denied on /(dev/uio0|sys/bus/pci/devices/\S+): run as root, "
                    r"or give your group access with `uioctl udev install`", out),
          f"bob must get UIOError.permissionDenied: {out}")
    check("bob-unbind-exit=77" in out and "needs root" in out, f"bob's uioctl unbind: {out}")
    check("uninstall-rc=0" in out, f"uninstall: {out} {vm.stderr}")
    check("after-uninstall: driver=virtio-pci" in out, f"uninstall must restore virtio-pci: {out}")
    check("left: " not in out, f"uninstall must remove its files: {out}")
    check(f"perm-after /sys/bus/pci/devices/{ADDR}/config root:root 644" in out, f"config back to root: {out}")


BIND_GUEST = COMMON + """
UIOCTL=$BIN/uioctl
IF=$(iface); echo "iface=$IF driver=$(driver)"
ip addr add 192.0.2.2/24 dev $IF && ip link set $IF up
sleep 1
$UIOCTL bind $ADDR; echo "bind-busy-rc=$? driver=$(driver)"
ip link set $IF down; ip addr flush dev $IF
$UIOCTL bind $ADDR; echo "bind-rc=$? driver=$(driver) remembered=$(cat /run/swift-uio/$ADDR.driver)"
ls /dev/uio0 && echo "uio0-present"
$UIOCTL bind $ADDR; echo "bind-again-rc=$?"
$UIOCTL unbind $ADDR; echo "unbind-rc=$? driver=$(driver)"
i=0; while [ -z "$(iface)" ] && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.05; done
IF=$(iface); echo "iface-after=$IF remembered-left=$(ls /run/swift-uio/ 2>/dev/null | wc -l)"
$UIOCTL unbind $ADDR; echo "unbind-again-rc=$?"
$UIOCTL bind 0000:00:1f.0; echo "bind-missing-rc=$?"
$UIOCTL bind $ADDR --driver uio_no_such_module; echo "bind-nomodule-rc=$?"
ip addr add 192.0.2.2/24 dev $IF && ip link set $IF up
mark READY-KERNEL
wait_host stop 120
"""


def test_bind_unbind_round_trip():
    with VM(nics=["legacy"], uio=False, guest_script=BIND_GUEST, timeout=300) as vm:
        vm.wait_for_line(r"^READY-KERNEL", timeout=240)
        got = ping(vm, 5)
        print(f"  ping 5 to virtio_net after uioctl unbind: {got} replies")
        vm.write_file("stop")
        rc = vm.wait(timeout=60)
    out, err = vm.stdout or "", vm.stderr or ""
    print("\n".join("  " + l for l in (out + err).splitlines()))
    check(rc == 0, f"guest exit {rc}: {out} {err}")
    iface = re.search(r"^iface=(\S+) driver=virtio-pci", out, re.M)
    check(iface, f"the NIC must start on virtio-pci with an interface: {out}")
    check("bind-busy-rc=75 driver=virtio-pci" in out, f"bind must refuse an interface in use: {out}")
    check(f"carries network interface {iface.group(1)}, which is in use" in err, f"in-use message: {err}")
    check("bind-rc=0 driver=uio_pci_generic remembered=virtio-pci" in out, f"bind: {out} {err}")
    check("uio0-present" in out, f"/dev/uio0 after bind: {out}")
    check("bind-again-rc=1" in out and "is already bound to uio_pci_generic" in err, f"bind twice: {out} {err}")
    check("unbind-rc=0 driver=virtio-pci" in out, f"unbind must give the NIC back to virtio-pci: {out} {err}")
    check(re.search(r"iface-after=\S+ remembered-left=0", out), f"the interface must reappear: {out}")
    check("unbind-again-rc=1" in out and "is not bound to a UIO driver" in err, f"unbind twice: {out} {err}")
    check("bind-missing-rc=69" in out and "no PCI device at 0000:00:1f.0" in err, f"missing device: {out} {err}")
    check("bind-nomodule-rc=69" in out and "kernel module uio_no_such_module is not available" in err,
          f"missing module: {out} {err}")
    check(got == 5, f"ping virtio_net after unbind: {got}/5")
