"""VM test harness for swift-uio: boot a throw-away QEMU guest with virtio NICs.

The guest runs the host's own root filesystem (shared read-only over 9p, with a
tmpfs overlay on top), so binaries built on the host run in it unchanged.  Its
NICs sit on tap devices inside a network namespace that this module creates and
deletes, with TEST-NET addresses only: nothing reaches a real network.

Typical use from a test function:

    with VM(nics=["legacy"], guest_script="echo READY; wait_host go 30") as vm:
        vm.wait_for_line(r"READY", timeout=60)
        vm.netns_exec(["ping", "-c", "1", "192.0.2.2"])
        vm.write_file("go")
    assert vm.exit_code == 0

Requirements (Debian 12, as root): qemu-system-x86 linux-image-amd64
busybox-static iproute2 xz-utils iputils-ping kmod.  Python stdlib only.
"""

import glob
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import threading
import time

WORK_DIR = os.environ.get("SWIFT_UIO_VM_DIR", "/tmp/swift-uio-vm")
KEEP_RUNS = 20                      # run directories kept for post-mortems
KEEP_YOUNG_SECONDS = 3600           # ... and any run younger than this (it may be running)

# Modules the initramfs carries, in the load order from NOTES.md.  Their
# dependencies are resolved through modules.dep, so a kernel update that adds a
# dependency still boots.
STAGE_A = ["virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev"]
STAGE_B = ["virtio_pci", "9pnet", "9pnet_virtio", "netfs", "fscache", "9p", "overlay",
           "uio", "uio_pci_generic"]
STAGE_NET = ["failover", "net_failover", "virtio_net"]   # only when a NIC stays with the kernel
STAGE_VFIO = ["vfio_iommu_type1", "vfio_pci"]            # only when a NIC goes to vfio-pci (vm.vfio=)

# Host-side networks, one per NIC slot (TEST-NET-1 and TEST-NET-2).
NETS = [("192.0.2.1", "192.0.2.2"), ("198.51.100.1", "198.51.100.2")]
NIC_MODES = {
    "legacy": "disable-modern=on",
    "modern": "disable-legacy=on,disable-modern=off",
}
# Intel 82576 (8086:10c9), QEMU >= 8.0 only.  On the `pc` machine it must sit at slot
# <= 0x0e, or QEMU refuses with "VF addr overflows" (its SR-IOV VFs follow it on the bus).
IGB_KIND = "igb"
NIC_KINDS = sorted(NIC_MODES) + [IGB_KIND]

# QEMU binaries.  The suite runs on Debian 12's QEMU 7.2; only VMs with an igb NIC use
# the QEMU 10 from bookworm-backports that scripts/install-deps unpacks into /opt/qemu10
# (it sent virtio frames 40-50 % slower than 7.2, so the rest of the suite stays on 7.2).
QEMU_DEFAULT = os.environ.get("SWIFT_UIO_QEMU", "qemu-system-x86_64")
QEMU10_PREFIX = os.environ.get("SWIFT_UIO_QEMU10_PREFIX", "/opt/qemu10")
NIC_PCI_SLOT0 = 4       # NIC i is at 0000:00:0(4+i).0 in the guest
NINEP_PCI_SLOT0 = 8     # the two 9p devices stay out of the NICs' way


class VMError(Exception):
    """Anything that went wrong around the VM (not in the code under test)."""


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

def run(cmd, check=True, timeout=60, **kw):
    """subprocess.run with a timeout always set and a readable error."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except FileNotFoundError:
        raise VMError(f"command not found: {cmd[0]}")
    if check and p.returncode != 0:
        raise VMError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    return p


def require_root():
    if os.geteuid() != 0:
        raise VMError("the VM harness needs root (netns, taps, reading /boot)")


def qemu_for(nics):
    """(argv prefix, extra environment) of the QEMU that can run these NICs."""
    if IGB_KIND not in nics:
        return [QEMU_DEFAULT], {}
    binary = os.path.join(QEMU10_PREFIX, "usr/bin/qemu-system-x86_64")
    if not os.path.isfile(binary):
        raise VMError(f"{binary} missing: an igb NIC needs QEMU >= 8.0; run scripts/install-deps "
                      "(it unpacks bookworm-backports' qemu-system-x86 10 into /opt/qemu10)")
    share = os.path.join(QEMU10_PREFIX, "usr/share")
    # Its own firmware and modules, not the installed 7.2's (modules of another build refuse to load).
    return ([binary, "-L", os.path.join(share, "qemu"), "-L", os.path.join(share, "seabios")],
            {"QEMU_MODULE_DIR": os.path.join(QEMU10_PREFIX, "usr/lib/x86_64-linux-gnu/qemu")})


def qemu_version(nics=("legacy",)):
    """The first line of `qemu --version` for the QEMU these NICs run on, for reports."""
    argv, env = qemu_for(list(nics))
    out = run([argv[0], "--version"], env={**os.environ, **env}).stdout
    m = re.search(r"version (\S+)", out)
    return f"QEMU {m.group(1)}" if m else out.splitlines()[0]


def require_tool(name, package):
    if shutil.which(name) is None:
        raise VMError(f"{name} not found: apt-get install {package}")


def atomic_write(path, data, mode=0o644):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# --------------------------------------------------------------------------
# Kernel and initramfs (cached)
# --------------------------------------------------------------------------

def find_kernel():
    """Return (version, vmlinuz path, modules dir) of a Debian guest kernel.

    The host kernel is not necessarily Debian's, so look at /boot rather than
    uname, and only accept a vmlinuz whose /lib/modules/<ver> exists.
    """
    found = []
    for path in sorted(glob.glob("/boot/vmlinuz-*")):
        ver = path[len("/boot/vmlinuz-"):]
        if os.path.isfile(f"/lib/modules/{ver}/modules.dep"):
            found.append((ver, path, f"/lib/modules/{ver}"))
    if not found:
        raise VMError("no /boot/vmlinuz-* with matching /lib/modules/<ver>: "
                      "apt-get install linux-image-amd64")
    # Newest version last by a natural sort.
    found.sort(key=lambda t: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", t[0])])
    return found[-1]


def extract_vmlinux(bzimage, out):
    """Decompress the xz payload of a bzImage into an ELF vmlinux (PVH boot).

    QEMU boots an ELF vmlinux through its PVH entry, skipping the in-guest
    decompression that takes seconds under TCG.
    """
    require_tool("xz", "xz-utils")
    data = open(bzimage, "rb").read()
    off = data.find(b"\xfd7zXZ\x00")
    if off < 0:
        raise VMError(f"{bzimage}: no xz payload found (kernel not xz-compressed?)")
    # --single-stream: ignore the bzImage trailer after the xz stream.
    p = subprocess.run(["xz", "-dc", "--single-stream"], input=data[off:],
                       capture_output=True, timeout=120)
    if p.returncode != 0 or not p.stdout.startswith(b"\x7fELF"):
        raise VMError(f"{bzimage}: xz payload did not decompress to an ELF: {p.stderr[:200]!r}")
    atomic_write(out, p.stdout)


def parse_modules_dep(moddir):
    """Map module name -> (relative path, [dependency names])."""
    deps = {}
    with open(os.path.join(moddir, "modules.dep")) as f:
        for line in f:
            path, _, rest = line.partition(":")
            deps[modname(path)] = (path, [modname(d) for d in rest.split()])
    return deps


def modname(path):
    base = os.path.basename(path)
    base = re.sub(r"\.ko(\.(xz|zst|gz))?$", "", base)
    return base.replace("-", "_")


def module_order(deps, wanted, have=()):
    """Wanted modules with their dependencies first; skip those already in have."""
    order, seen = [], set(have)

    def visit(name, depth=0):
        if name in seen:
            return
        if depth > 50 or name not in deps:
            raise VMError(f"kernel module {name} not found in modules.dep")
        seen.add(name)
        # modules.dep lists dependencies so that the last must load first.
        for d in reversed(deps[name][1]):
            visit(d, depth + 1)
        order.append(name)

    for w in wanted:
        visit(w)
    return order


def read_module(moddir, relpath):
    """Module bytes, decompressed: busybox insmod cannot read .ko.xz/.ko.zst."""
    path = os.path.join(moddir, relpath)
    if path.endswith(".ko"):
        return open(path, "rb").read()
    tool = {".xz": ["xz", "-dc"], ".zst": ["zstd", "-dc"], ".gz": ["gzip", "-dc"]}
    for ext, cmd in tool.items():
        if path.endswith(ext):
            p = subprocess.run(cmd + [path], capture_output=True, timeout=60)
            if p.returncode != 0:
                raise VMError(f"cannot decompress {path}: {p.stderr[:200]!r}")
            return p.stdout
    raise VMError(f"unknown module format: {path}")


class Cpio:
    """Minimal writer for the 'newc' cpio format the kernel unpacks."""

    def __init__(self):
        self.parts, self.ino = [], 1

    def _entry(self, name, mode, data=b""):
        hdr = "070701" + "".join(f"{v:08x}" for v in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0))
        self.ino += 1
        self.parts.append(hdr.encode() + name.encode() + b"\0")
        self._pad()
        self.parts.append(data)
        self._pad()

    def _pad(self):
        n = sum(len(p) for p in self.parts)
        self.parts.append(b"\0" * (-n % 4))

    def dir(self, name):
        self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name, data, mode=0o644):
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def bytes(self):
        self._entry("TRAILER!!!", 0)
        return b"".join(self.parts)


def init_script(order_a, order_b, order_net, order_vfio=()):
    """The initramfs /init (busybox sh).  All per-run choices come from the
    kernel command line, so one cached initramfs serves every run:
      vm.uio=ADDR,ADDR   NICs to hand to uio_pci_generic (others: virtio_net)
      vm.vfio=ADDR,ADDR  NICs to hand to vfio-pci (needs an IOMMU: VM(iommu=True))
      vm.ip=1            print the guest's network setup (debug)
    """
    ins = lambda mods: "\n".join(f"insmod /lib/modules/{m}.ko || fail 'insmod {m}'; trace {m}"
                                  for m in mods)
    return f"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
fail() {{ echo "VM-INIT-FAIL: $*" > /dev/console; poweroff -f; }}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
UIO=""; VFIO=""; TRACE=""
for a in $(cat /proc/cmdline); do case $a in vm.uio=*) UIO="${{a#vm.uio=}}";; vm.vfio=*) VFIO="${{a#vm.vfio=}}";; vm.trace=1) TRACE=1;; esac; done
# trace MSG: timestamped progress on the console when booted with vm.trace=1
trace() {{ [ -n "$TRACE" ] && echo "VM-TRACE $(cut -d' ' -f1 /proc/uptime) $*" > /dev/console; }}
trace init
UIO=$(echo "$UIO" | tr , ' ')
VFIO=$(echo "$VFIO" | tr , ' '); [ "$VFIO" = none ] && VFIO=""
{ins(order_a)}
# virtio_pci grabs every virtio device, so the override must be in place
# before it loads.  Only virtio *net* devices (0x1000 legacy, 0x1041 modern)
# are candidates: the 9p shares are virtio too.
NICS=""
for d in /sys/bus/pci/devices/*; do
  [ "$(cat $d/vendor)" = 0x1af4 ] || continue
  case "$(cat $d/device)" in 0x1000|0x1041) ;; *) continue;; esac
  a=${{d##*/}}; NICS="$NICS $a"
  for u in $UIO; do [ "$u" = "$a" ] && echo uio_pci_generic > $d/driver_override; done
  for u in $VFIO; do [ "$u" = "$a" ] && echo vfio-pci > $d/driver_override; done
done
trace stage-a
{ins(order_b)}
trace stage-b
# Intel 82576 NICs (QEMU's igb) named in vm.uio or vm.vfio: no module in this initramfs
# claims them, so uio_pci_generic or vfio-pci gets them before the kernel's igb could load.
for d in /sys/bus/pci/devices/*; do
  [ "$(cat $d/vendor)" = 0x8086 ] && [ "$(cat $d/device)" = 0x10c9 ] || continue
  a=${{d##*/}}
  for u in $UIO; do [ "$u" = "$a" ] && {{ echo uio_pci_generic > $d/driver_override; NICS="$NICS $a"; }}; done
  for u in $VFIO; do [ "$u" = "$a" ] && {{ echo vfio-pci > $d/driver_override; NICS="$NICS $a"; }}; done
done
if [ -n "$VFIO" ]; then
{ins(order_vfio) if order_vfio else "  :"}
  trace vfio
fi
for a in $NICS; do
  case "$(cat /sys/bus/pci/devices/$a/driver_override)" in
  uio_pci_generic|vfio-pci)
    [ -e /sys/bus/pci/devices/$a/driver ] || echo $a > /sys/bus/pci/drivers_probe;;
  *) NEED_NET=1;;
  esac
done
if [ -n "$NEED_NET" ]; then
{ins(order_net)}
fi
# Host / read-only over 9p, a tmpfs overlay on top so the guest can write.
trace modules
mkdir -p /lower /upper /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /lower \\
  || fail "mount 9p hostroot"
mount -t tmpfs -o size=256m tmpfs /upper
mkdir -p /upper/u /upper/w
mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w overlay /newroot \\
  || fail "mount overlay"
mkdir -p /newroot/.vm
cp /bin/busybox /stage2 /newroot/.vm/
trace overlay
for m in proc sys dev; do mount --move /$m /newroot/$m; done
export TRACE
exec switch_root /newroot /.vm/busybox sh /.vm/stage2
"""


STAGE2 = r"""# Runs as PID 1 inside the host's root (overlay).  Busybox from the initramfs.
B=/.vm/busybox
fail() { echo "VM-INIT-FAIL: $*" > /dev/console; $B poweroff -f; }
trace() { [ -n "$TRACE" ] && echo "VM-TRACE $($B cut -d' ' -f1 /proc/uptime) $*" > /dev/console; }
trace stage2
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
$B mount -t tmpfs tmpfs /run
$B mkfifo /run/wait-host.fifo     # for wait_host (prelude): a read on it only times out
# /tmp is left as the overlay (already writable) so that host files under
# /tmp, such as test binaries built there, stay visible in the guest.
$B mkdir -p /dev/pts /dev/shm /dev/hugepages /results
$B mount -t devpts devpts /dev/pts
$B mount -t tmpfs tmpfs /dev/shm
trace mounts
echo 64 > /proc/sys/vm/nr_hugepages
trace hugepages
$B mount -t hugetlbfs hugetlbfs /dev/hugepages
$B mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none results /results \
  || fail "mount 9p results"
trace results
$B hostname vm
$B ip link set lo up
[ -f /results/cmd.sh ] || fail "no /results/cmd.sh"
echo "VM-CMD-START uptime=$($B cut -d' ' -f1 /proc/uptime)" > /dev/console
/bin/sh /results/cmd.sh > /results/stdout 2> /results/stderr < /dev/null
rc=$?
$B sync
echo $rc > /results/exitcode
echo "VM-CMD-EXIT rc=$rc" > /dev/console
$B poweroff -f
"""

# Prepended to every guest script: tiny helpers for talking to the host.
GUEST_PRELUDE = r"""# --- swift-uio VM prelude ---
# mark TEXT: a line on stdout and on the serial console (host can wait on it).
mark() { echo "$*"; echo "$*" > /dev/console; }
# wait_host NAME SECONDS: wait until the host writes /results/NAME. One busybox ash does the
# whole wait with builtins only: a stat of the 9p file and a 0.1 s `read -t` on a FIFO that
# never gets data. The old loop forked /bin/sleep (dynamically linked, from the 9p root) 20
# times a second: under TCG each fork+exec took milliseconds of the single vCPU, which stalled
# whatever was being measured (echo p99s of 37-84 ms at 37.5 k/s, against 2-4 ms without it).
# `exit 0` at the end: a while loop's status is its last body command's, here a timed-out
# read, which would turn every wait that waited into a failure.
wait_host() { /.vm/busybox sh -c 'i=0; while [ ! -e "/results/$1" ]; do
  i=$((i+1)); [ $i -gt $(($2*10)) ] && { echo "wait_host $1: timeout" >&2; exit 1; }
  read -t 0.1 line <> /run/wait-host.fifo; done; exit 0' wait_host "$1" "$2"; }
# --- end prelude ---
"""


def build_inputs():
    """Everything the cached kernel+initramfs depend on, for the cache key."""
    ver, vmlinuz, moddir = find_kernel()
    busybox = "/bin/busybox"
    if not os.path.isfile(busybox):
        raise VMError("no /bin/busybox: apt-get install busybox-static")
    deps = parse_modules_dep(moddir)
    order_a = module_order(deps, STAGE_A)
    order_b = module_order(deps, STAGE_B, have=order_a)
    order_net = module_order(deps, STAGE_NET, have=order_a + order_b)
    order_vfio = module_order(deps, STAGE_VFIO, have=order_a + order_b + order_net)
    return ver, vmlinuz, moddir, busybox, deps, order_a, order_b, order_net, order_vfio


def fingerprint(paths, texts):
    h = hashlib.sha256()
    for p in paths:
        st = os.stat(p)
        h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    for t in texts:
        h.update(t.encode())
    return h.hexdigest()[:16]


def build_boot_files():
    """Return (vmlinux, initramfs) paths, rebuilt only when an input changed."""
    ver, vmlinuz, moddir, busybox, deps, oa, ob, onet, ovfio = build_inputs()
    init = init_script(oa, ob, onet, ovfio)
    mods = oa + ob + onet + ovfio
    mod_paths = [os.path.join(moddir, deps[m][0]) for m in mods]
    key = fingerprint([vmlinuz, busybox] + mod_paths, [init, STAGE2])
    out = os.path.join(WORK_DIR, f"boot-{ver}-{key}")
    vmlinux, initrd = os.path.join(out, "vmlinux"), os.path.join(out, "initramfs.cpio")
    if os.path.isfile(vmlinux) and os.path.isfile(initrd):
        return vmlinux, initrd
    os.makedirs(out, exist_ok=True)
    extract_vmlinux(vmlinuz, vmlinux)
    c = Cpio()
    for d in ["bin", "dev", "proc", "sys", "lib", "lib/modules"]:
        c.dir(d)
    c.file("bin/busybox", open(busybox, "rb").read(), 0o755)
    c.file("init", init.encode(), 0o755)
    c.file("stage2", STAGE2.encode(), 0o755)
    for m in mods:
        c.file(f"lib/modules/{m}.ko", read_module(moddir, deps[m][0]))
    atomic_write(initrd, c.bytes())
    return vmlinux, initrd


# --------------------------------------------------------------------------
# Network namespace
# --------------------------------------------------------------------------

class Netns:
    """A private network namespace with one tap per NIC (host side addressed)."""

    def __init__(self, name, ntaps, queues=1):
        self.name, self.ntaps, self.queues = name, ntaps, queues

    def sysctl(self, key, value):
        # /proc/sys/net is per-namespace for the process that opens it.
        path = "/proc/sys/" + key.replace(".", "/")
        self.exec(["sh", "-c", f"echo {value} > {path}"])

    def create(self):
        require_tool("ip", "iproute2")
        run(["ip", "netns", "add", self.name])
        self.exec(["ip", "link", "set", "lo", "up"])
        self.sysctl("net.ipv4.ip_forward", 0)
        # Taps are born without IPv6 (no router solicitations, no MLD).
        self.sysctl("net.ipv6.conf.all.disable_ipv6", 1)
        self.sysctl("net.ipv6.conf.default.disable_ipv6", 1)
        for i in range(self.ntaps):
            tap, (host_ip, _) = f"tap{i}", NETS[i]
            # A multi_queue tap lets QEMU open one file per queue pair (-netdev ...,queues=N).
            self.exec(["ip", "tuntap", "add", tap, "mode", "tap"] + (["multi_queue"] if self.queues > 1 else []))
            self.exec(["ip", "addr", "add", f"{host_ip}/24", "dev", tap])
            self.exec(["ip", "link", "set", tap, "up"])

    def exec(self, cmd, timeout=60, check=True, **kw):
        return run(["ip", "netns", "exec", self.name] + list(cmd),
                   timeout=timeout, check=check, **kw)

    def delete(self):
        # The kernel deletes the taps with the namespace once QEMU is gone.
        run(["ip", "netns", "delete", self.name], check=False, timeout=30)


# --------------------------------------------------------------------------
# QMP
# --------------------------------------------------------------------------

class QMP:
    """Blocking QMP client over QEMU's unix socket; events are kept, not lost."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf, self.events = b"", []
        self._read()                                   # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise VMError("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, execute, args=None):
        msg = {"execute": execute}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        for _ in range(1000):                          # bounded: skip events
            r = self._read()
            if "event" in r:
                self.events.append(r)
            elif "error" in r:
                raise VMError(f"QMP {execute}: {r['error'].get('desc')}")
            elif "return" in r:
                return r["return"]
        raise VMError(f"QMP {execute}: no reply")

    def close(self):
        self.sock.close()


# --------------------------------------------------------------------------
# The VM
# --------------------------------------------------------------------------

_live = set()            # VMs to clean up on SIGTERM/SIGINT/exit
_counter = [0]


def _on_signal(signum, frame):
    # Turn the signal into an exception so that every `with VM` unwinds and
    # deletes its namespace; then exit with the conventional code.
    raise SystemExit(128 + signum)


def install_signal_handlers():
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)


import atexit  # noqa: E402  (kept next to its use)
atexit.register(lambda: [vm.close() for vm in list(_live)])


class VM:
    """One guest run.  See the module docstring for an example.

    nics:         list of "legacy"/"modern"/"igb", one per NIC (0 to 2); a VM with an igb
                  NIC runs on QEMU 10 (see qemu_for).
    uio:          True = every NIC to uio_pci_generic; False = all to the
                  kernel's virtio_net; or a list of booleans per NIC.
    vfio:         True/False or a list per NIC: hand the NIC to vfio-pci at boot
                  (needs iommu=True; do not combine with uio for the same NIC).
    machine:      QEMU machine type, "pc" (default) or "q35".
    iommu:        True adds -device intel-iommu,intremap=on (q35 only), boots
                  with intel_iommu=on iommu=pt, and gives modern NICs
                  iommu_platform=on so their DMA goes through the IOMMU.
    guest_script: /bin/sh script run in the guest as root (with GUEST_PRELUDE).
    timeout:      hard limit in seconds on the whole QEMU run.
    smp:          vCPUs (TCG runs each on a host thread of its own).
    queues:       queue pairs per NIC: above 1, a multi_queue tap, -netdev ...,queues=N
                  and virtio-net-pci mq=on (max_virtqueue_pairs = N).
    """

    def __init__(self, nics=("legacy",), guest_script="true", uio=True, timeout=120,
                 mem_mb=1024, quiet_kernel=True, trace=False, extra_qemu=(), smp=1, queues=1,
                 machine="pc", iommu=False, vfio=False):
        if len(nics) > len(NETS):
            raise VMError(f"at most {len(NETS)} NICs")
        for m in nics:
            if m not in NIC_KINDS:
                raise VMError(f"NIC kind {m!r}: use one of {NIC_KINDS}")
        self.nics = list(nics)
        self.uio = [uio] * len(nics) if isinstance(uio, bool) else list(uio)
        self.vfio = [vfio] * len(nics) if isinstance(vfio, bool) else list(vfio)
        if iommu and machine != "q35":
            raise VMError("an emulated IOMMU (intel-iommu) needs machine='q35'")
        if any(self.vfio) and not iommu:
            raise VMError("vfio-pci needs an IOMMU: VM(iommu=True, machine='q35'); Debian's kernel has no no-IOMMU mode")
        for i, (u, v) in enumerate(zip(self.uio, self.vfio)):
            if u and v:
                raise VMError(f"NIC {i}: uio and vfio both requested")
        self.machine, self.iommu = machine, iommu
        self.guest_script, self.timeout = guest_script, timeout
        self.mem_mb, self.quiet_kernel, self.extra_qemu = mem_mb, quiet_kernel, list(extra_qemu)
        self.trace = trace
        self.smp, self.queues = smp, queues
        self.proc = self.qmp_conn = self.netns = None
        self.exit_code = self.stdout = self.stderr = None
        self.boot_seconds = None
        self.timed_out = False     # True if the host-side timer had to kill QEMU
        self._closed = False

    # ---- addresses tests need --------------------------------------------
    @staticmethod
    def pci_addr(i):
        return f"0000:00:{NIC_PCI_SLOT0 + i:02x}.0"

    @staticmethod
    def mac(i):
        return f"52:54:00:12:34:5{i}"

    @staticmethod
    def host_ip(i):
        return NETS[i][0]

    @staticmethod
    def guest_ip(i):
        return NETS[i][1]

    @staticmethod
    def tap(i):
        return f"tap{i}"

    # ---- lifecycle ---------------------------------------------------------
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()          # __exit__ is not called when __enter__ raises
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self):
        require_root()
        self.qemu_argv, self.qemu_env = qemu_for(self.nics)
        require_tool(self.qemu_argv[0], "qemu-system-x86")
        install_signal_handlers()
        vmlinux, initrd = build_boot_files()
        self._make_run_dir()
        _live.add(self)
        _counter[0] += 1
        self.netns = Netns(f"suio-{os.getpid()}-{_counter[0]}", len(self.nics), self.queues)
        self.netns.create()
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.netns.name] + self.qemu_cmd(vmlinux, initrd),
            stdin=subprocess.DEVNULL, stdout=open(self.path("qemu.out"), "wb"),
            stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, **self.qemu_env})
        # Host-side hard limit, independent of what the test code does.
        self._timer = threading.Timer(self.timeout, self._on_timeout)
        self._timer.daemon = True
        self._timer.start()

    def _make_run_dir(self):
        runs = os.path.join(WORK_DIR, "runs")
        os.makedirs(runs, exist_ok=True)
        old = sorted(glob.glob(os.path.join(runs, "*")), key=os.path.getmtime)
        for d in old[:max(0, len(old) - KEEP_RUNS + 1)]:
            # Other test runs (other checkouts) share this directory: never delete a run
            # young enough to be still going, or its guest loses /results mid-test.
            if time.time() - os.path.getmtime(d) > KEEP_YOUNG_SECONDS:
                shutil.rmtree(d, ignore_errors=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.run_dir = os.path.join(runs, f"{stamp}-{os.getpid()}-{_counter[0] + 1}")
        self.results = os.path.join(self.run_dir, "results")
        os.makedirs(self.results)
        with open(os.path.join(self.results, "cmd.sh"), "w") as f:
            f.write(GUEST_PRELUDE + self.guest_script + "\n")

    def path(self, name):
        return os.path.join(self.run_dir, name)

    def qemu_cmd(self, vmlinux, initrd):
        uio_addrs = ",".join(self.pci_addr(i) for i, u in enumerate(self.uio) if u)
        # init_on_alloc=0: Debian zeroes every allocation by default, which costs
        # a second under TCG for the hugepage pool alone (hugetlb pages are
        # still cleared when a process faults them in).
        # tsc=reliable, no_timer_check: skip clock checks that only slow a TCG
        # boot.  (Not pci=noacpi: it saves ~0.4 s per device enable, but the
        # kernel then fails to assign legacy virtio's I/O BAR0.)
        vfio_addrs = ",".join(self.pci_addr(i) for i, v in enumerate(self.vfio) if v)
        append = f"console=ttyS0 panic=-1 init_on_alloc=0 tsc=reliable " \
                 f"no_timer_check rdinit=/init vm.uio={uio_addrs or 'none'}"
        if vfio_addrs:
            append += f" vm.vfio={vfio_addrs}"
        if self.iommu:
            # Translation on (a vfio-pci device gets its own IOMMU domain) but an identity
            # domain by default, so the kernel's own devices (9p) work as without it.
            append += " intel_iommu=on iommu=pt"
        if self.quiet_kernel:
            append += " quiet"
        if self.trace:
            append += " vm.trace=1"
        cmd = self.qemu_argv + ["-machine", self.machine, "-accel", "tcg", "-cpu", "max",
               "-smp", str(self.smp), "-m", str(self.mem_mb), "-nographic", "-no-reboot",
               "-monitor", "none", "-serial", f"file:{self.path('serial.log')}",
               "-qmp", f"unix:{self.path('qmp.sock')},server=on,wait=off",
               "-kernel", vmlinux, "-initrd", initrd, "-append", append,
               "-nic", "none"]
        if self.iommu:
            # Before every other device: QEMU attaches devices to an IOMMU created before them.
            cmd += ["-device", "intel-iommu,intremap=on"]
        for i, tag, path, ro in [(0, "hostroot", "/", True), (1, "results", self.results, False)]:
            cmd += ["-fsdev", f"local,id=fs{i},path={path},security_model=passthrough,"
                              f"multidevs=remap{',readonly=on' if ro else ''}",
                    "-device", f"virtio-9p-pci,fsdev=fs{i},mount_tag={tag},"
                               f"addr={NINEP_PCI_SLOT0 + i:#x}"]
        for i, mode in enumerate(self.nics):
            device = "igb," if mode == IGB_KIND else f"virtio-net-pci,{NIC_MODES[mode]},"
            cmd += ["-netdev", f"tap,id=net{i},ifname={self.tap(i)},script=no,"
                               f"downscript=no,vhost=off"
                               + (f",queues={self.queues}" if self.queues > 1 else ""),
                    "-device", f"{device}id=nic{i},netdev=net{i},mac={self.mac(i)},"
                               f"addr={NIC_PCI_SLOT0 + i:#x},romfile="
                               + (",mq=on" if self.queues > 1 else "")
                               # Without it QEMU's virtio bypasses the IOMMU (VIRTIO_F_ACCESS_PLATFORM).
                               + (",iommu_platform=on" if self.iommu and mode == "modern" else "")]
        return cmd + self.extra_qemu

    def _on_timeout(self):
        if self.proc and self.proc.poll() is None:
            self.timed_out = True
            self.proc.kill()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout=None):
        """Wait for the guest to power off; return its command's exit code."""
        limit = self.timeout if timeout is None else timeout
        try:
            self.proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            raise VMError(f"guest still running after {limit}s\n{self.serial_tail()}")
        if self.timed_out:
            raise VMError(f"VM killed by its {self.timeout}s timeout\n{self.serial_tail()}")
        self._collect()
        return self.exit_code

    def close(self):
        """Stop QEMU (if still up), collect results, delete the namespace."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.qmp_conn:
                self.qmp_conn.close()
            if self.proc and self.proc.poll() is None:
                # Give a guest that is already finishing a moment, then kill.
                try:
                    self.proc.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
            if self.proc:
                self._collect()
        finally:
            if hasattr(self, "_timer"):
                self._timer.cancel()
            if self.netns:
                self.netns.delete()
            _live.discard(self)

    def _collect(self):
        self.stdout = self.read_file("stdout")
        self.stderr = self.read_file("stderr")
        rc = self.read_file("exitcode")
        self.exit_code = int(rc) if rc and rc.strip().isdigit() else None

    # ---- files, lines and markers ----------------------------------------
    def read_file(self, name):
        """A file from the results share as text, or None."""
        try:
            with open(os.path.join(self.results, name), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def write_file(self, name, text=""):
        """Create a file the guest sees at /results/NAME (atomically)."""
        atomic_write(os.path.join(self.results, name), text.encode())

    def serial(self):
        try:
            with open(self.path("serial.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def serial_tail(self, n=30):
        lines = self.serial().splitlines()[-n:]
        try:
            qemu = open(self.path("qemu.out"), errors="replace").read()[-2000:]
        except FileNotFoundError:
            qemu = ""
        # What the guest script printed so far says why it stopped (an `exit 1` after a message).
        out = (self.read_file("stdout") or "").splitlines()[-n:]
        err = (self.read_file("stderr") or "").splitlines()[-n:]
        return "--- serial (tail) ---\n" + "\n".join(lines) + \
               ("\n--- guest stdout (tail) ---\n" + "\n".join(out) if out else "") + \
               ("\n--- guest stderr (tail) ---\n" + "\n".join(err) if err else "") + \
               ("\n--- qemu ---\n" + qemu if qemu.strip() else "")

    def _poll(self, get, timeout, what):
        """Call get() every 20 ms until it returns non-None; bounded."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r = get()
            if r is not None:
                return r
            if not self.running():
                r = get()          # the last write may have raced the exit
                if r is not None:
                    return r
                raise VMError(f"guest exited while waiting for {what}\n{self.serial_tail()}")
            time.sleep(0.02)
        raise VMError(f"timeout ({timeout}s) waiting for {what}\n{self.serial_tail()}")

    def wait_for_line(self, pattern, source="stdout", timeout=60):
        """Wait for a regex in the guest's stdout (or 'serial', or any results
        file name); return the re.Match."""
        rx = re.compile(pattern, re.M)

        def get():
            text = self.serial() if source == "serial" else (self.read_file(source) or "")
            return rx.search(text)
        return self._poll(get, timeout, f"/{pattern}/ in {source}")

    def wait_for_file(self, name, timeout=60):
        """Wait for the guest to create /results/NAME; return its text."""
        p = os.path.join(self.results, name)
        return self._poll(lambda: self.read_file(name) if os.path.exists(p) else None,
                          timeout, f"/results/{name}")

    def wait_for_command(self, timeout=60):
        """Wait until the guest's command starts; return seconds since launch."""
        self.wait_for_line(r"VM-CMD-START", source="serial", timeout=timeout)
        if self.boot_seconds is None:
            self.boot_seconds = time.monotonic() - self.t0
        return self.boot_seconds

    # ---- host side -------------------------------------------------------
    def netns_exec(self, cmd, timeout=60, check=False, **kw):
        """Run a command in the VM's network namespace; CompletedProcess."""
        return self.netns.exec(cmd, timeout=timeout, check=check, **kw)

    def qmp(self, cmd, args=None):
        """Send a QMP command (e.g. qmp("set_link", {"name": "net0", "up": False}))."""
        if self.qmp_conn is None:
            sock = self.path("qmp.sock")
            self._poll(lambda: True if os.path.exists(sock) else None, 10, "QMP socket")
            self.qmp_conn = QMP(sock)
        return self.qmp_conn.cmd(cmd, args)

    def set_link(self, i, up):
        """Link of NIC i up/down as the guest sees it (virtio status change)."""
        return self.qmp("set_link", {"name": f"net{i}", "up": bool(up)})

    def tap_stats(self, i=0):
        """Counters of tap i (rx = guest TX, tx = guest RX)."""
        base = f"/sys/class/net/{self.tap(i)}/statistics/"
        out = self.netns_exec(["sh", "-c", f"cd {base} && grep . *"], check=True).stdout
        return {k: int(v) for k, v in (l.split(":") for l in out.split())}


# --------------------------------------------------------------------------
# Helpers for test files
# --------------------------------------------------------------------------

def slow(fn):
    """Mark a test as slow: run.py --quick skips it."""
    fn.slow = True
    return fn


def check(cond, msg):
    """assert that survives python -O and carries a message."""
    if not cond:
        raise AssertionError(msg)
