"""Harness checks that the user-space drivers depend on: INTx interrupts reach
/dev/uioN under uio_pci_generic, and QMP set_link raises one; and the guest's wait_host.

The guest side is a few lines of Python (the host's python3, run off the
shared root) that drive the legacy virtio registers through sysfs resource0.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import VM, check  # noqa: E402

# Legacy virtio-pci registers (BAR0, I/O ports; no MSI-X so config at 0x14).
GUEST_PY = r'''
import glob, os, select, sys
A = "0000:00:04.0"
D = "/sys/bus/pci/devices/" + A
io = os.open(D + "/resource0", os.O_RDWR)
cfg = os.open(D + "/config", os.O_RDWR)
uio_name = [u for u in glob.glob("/sys/class/uio/uio*")
            if os.path.basename(os.readlink(u + "/device")) == A][0].rsplit("/", 1)[1]
uio = os.open("/dev/" + uio_name, os.O_RDONLY)
def w(off, val, n): os.pwrite(io, val.to_bytes(n, "little"), off)
def r(off, n): return int.from_bytes(os.pread(io, n, off), "little")
def unmask():
    # uio_pci_generic masks INTx (PCI_COMMAND bit 10) in its handler.
    cmd = int.from_bytes(os.pread(cfg, 2, 4), "little")
    os.pwrite(cfg, (cmd & ~0x400).to_bytes(2, "little"), 4)
w(0x12, 0, 1); w(0x12, 1, 1); w(0x12, 3, 1)   # reset, ACKNOWLEDGE, DRIVER
w(0x04, r(0x00, 4) & (1 << 16), 4)             # only VIRTIO_NET_F_STATUS
w(0x12, 7, 1)                                  # DRIVER_OK
unmask()
print(f"{uio_name} link={r(0x1a, 2) & 1}")
print("READY", flush=True)
for phase in ("down", "up"):
    p = select.poll(); p.register(uio, select.POLLIN)
    if not p.poll(30000):
        print("TIMEOUT", phase); sys.exit(1)
    count = int.from_bytes(os.read(uio, 4), "little")
    isr = r(0x13, 1)                           # reading ISR acks the interrupt
    print(f"irq-{phase} count={count} isr={isr:#x} link={r(0x1a, 2) & 1}", flush=True)
    unmask()
w(0x12, 0, 1)                                  # reset: device quiet again
'''


def test_uio_intx_set_link():
    script = f"python3 - <<'PYEOF'\n{GUEST_PY}\nPYEOF\n"
    with VM(nics=["legacy"], guest_script=script, timeout=120) as vm:
        vm.wait_for_line(r"^READY", timeout=90)
        for n, (phase, up) in enumerate([("down", False), ("up", True)], 1):
            vm.set_link(0, up)
            m = vm.wait_for_line(rf"^irq-{phase} count=(\d+) isr=(\S+) link=(\d)", timeout=20)
            print(f"  set_link {phase}: uio count={m.group(1)} isr={m.group(2)} link={m.group(3)}")
            check(m.group(3) == ("1" if up else "0"), f"link after set_link {phase}")
            check(int(m.group(1)) == n, f"expected interrupt #{n}, uio count {m.group(1)}")
        rc = vm.wait(timeout=30)
    check(rc == 0, f"guest exit code {rc}; stdout: {vm.stdout} stderr: {vm.stderr}")


def test_wait_host():
    """wait_host, which every guest script waits with: 0 once the host's file appears (also
    after it has waited a while), 1 after its timeout, and no process forked while it waits."""
    guest = """
mark WAITING
before=$(awk '/^processes/ {print $2}' /proc/stat)
wait_host go 30; echo "go-rc=$?"
after=$(awk '/^processes/ {print $2}' /proc/stat)
echo "forks=$((after - before))"
wait_host never 1; echo "never-rc=$?"
"""
    with VM(nics=["legacy"], guest_script=guest, timeout=120) as vm:
        vm.wait_for_line(r"^WAITING", timeout=60)
        time.sleep(1.5)          # the guest waits 1.5 s: 15 polls of the file
        vm.write_file("go")
        rc = vm.wait(timeout=60)
    out = vm.stdout
    print(f"  {' '.join(l for l in out.splitlines() if 'rc=' in l or 'forks=' in l)}")
    check(rc == 0 and "go-rc=0" in out, f"wait_host must return 0 when the file appears: {out} {vm.stderr}")
    check("never-rc=1" in out, f"wait_host must return 1 after its timeout: {out}")
    forks = int(out.split("forks=")[1].split()[0])
    # The wait itself is one busybox (one fork); the command substitutions around it add two.
    check(forks <= 4, f"wait_host forked {forks} processes while waiting 1.5 s (the old loop forked 20 a second)")
