"""VFIO beyond one virtio queue: QEMU's igb behind the emulated IOMMU, and a two-queue
modern virtio-net NIC with an MSI-X vector per RX queue. Same machine as test_vfio.py (q35,
intel-iommu first, intel_iommu=on iommu=pt, the NIC on vfio-pci at boot).

test_vfio_echo_igb (QEMU 10, igb's INTx through VFIO_IRQ_SET_ACTION_UNMASK): ping 100/100,
payloads of 0 and 1472 bytes, 1,000 UDP datagrams to port 7 byte-identical, SIGTERM exits 0,
and /proc/interrupts shows the vfio-intx line firing.

test_vfio_multiqueue (-smp 2, mq=on, queues=2): echo-server --queues 2 --backend vfio answers
64 UDP flows byte for byte, each queue carries >= 20 % of the frames, and each RX queue's own
MSI-X vector (1 and 2; 0 is for configuration changes) fired while it had traffic.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from vmlib import VM, check, qemu_version  # noqa: E402
from test_echo import ping  # noqa: E402
from test_vfio import PRELUDE, UDP_CLIENT  # noqa: E402
from test_multiqueue import UDP_FLOWS, FLOWS, PER_FLOW  # noqa: E402

VFIO_MACHINE = dict(uio=False, vfio=True, machine="q35", iommu=True)

SNAP = "snap() { grep -E 'vfio-(msix|intx)' /proc/interrupts > /results/irq-$1.txt; }\n"

IGB_GUEST = PRELUDE + SNAP + """
echo "driver=$(driver)"
$BIN/echo-server $ADDR --ip 192.0.2.2/24 --backend vfio --stats-interval 1 > /results/igb.log 2>&1 &
PID=$!
wait_ready /results/igb.log $PID || exit 1
snap 0; mark READY
wait_host stop 300
snap 1
kill -TERM $PID; wait $PID; echo "server-exit=$?"
"""

MQ_GUEST = PRELUDE + SNAP + """
echo "driver=$(driver)"
$BIN/echo-server $ADDR --ip 192.0.2.2/24 --queues 2 --backend vfio > /results/mq.log 2>&1 &
PID=$!
wait_ready /results/mq.log $PID || exit 1
snap 0; mark READY
wait_host stop 300
snap 1
kill -TERM $PID; wait $PID; echo "server-exit=$?"
cat /results/mq.log
"""


def irq_counts(text):
    """{'msix0': n, 'msix1': n, 'intx': n, ...} from /proc/interrupts, summed over the CPUs."""
    counts = {}
    for line in text.splitlines():
        m = re.match(r"\s*\w+:((?:\s+\d+)+)\s.*vfio-(msix|intx)(?:\[(\d+)\])?", line)
        if m:
            counts[m.group(2) + (m.group(3) or "")] = sum(int(x) for x in m.group(1).split())
    return counts


def test_vfio_echo_igb():
    print(f"  [vfio igb] {qemu_version(['igb'])}")
    with VM(nics=["igb"], guest_script=IGB_GUEST, timeout=600, **VFIO_MACHINE) as vm:
        vm.wait_for_line(r"^READY", timeout=180)
        got = ping(vm, 100)
        print(f"  [vfio igb] ping 100 x 56 bytes: {got} replies")
        check(got == 100, f"igb through VFIO: ping 100/100, got {got}")
        for size in (0, 1472):
            got = ping(vm, 5, size=size, interval="0.05")
            check(got == 5, f"igb through VFIO: ping -s {size}: {got}/5")
        p = vm.netns_exec(["python3", "-c", UDP_CLIENT, vm.guest_ip(0)], timeout=240)
        print(f"  [vfio igb] {p.stdout.strip()} {p.stderr.strip()}")
        check("udp ok=1000 bad=0 lost=0" in p.stdout, f"igb through VFIO: UDP echo: {p.stdout} {p.stderr}")
        vm.write_file("stop")
        rc = vm.wait(timeout=60)
    out = vm.stdout or ""
    before, after = (irq_counts(vm.read_file(f"irq-{i}.txt") or "") for i in (0, 1))
    print(f"  [vfio igb] {out.strip().splitlines()[0] if out.strip() else ''}; INTx count before/after: "
          f"{before.get('intx')}, {after.get('intx')}")
    check(rc == 0 and "server-exit=0" in out, f"igb through VFIO: guest exit {rc}: {out} {vm.stderr}")
    check("driver=vfio-pci" in out, f"the igb NIC must be on vfio-pci: {out}")
    check("intx" in before and after["intx"] > before["intx"], f"igb's INTx through VFIO fired: {before} {after}")


def test_vfio_multiqueue():
    with VM(nics=["modern"], guest_script=MQ_GUEST, timeout=600, smp=2, queues=2, **VFIO_MACHINE) as vm:
        vm.wait_for_line(r"^READY", timeout=180)
        p = vm.netns_exec(["python3", "-c", UDP_FLOWS, vm.guest_ip(0), str(FLOWS), str(PER_FLOW)], timeout=240)
        print(f"  [vfio mq] {p.stdout.strip()} {p.stderr.strip()}")
        check(f"udp ok={FLOWS * PER_FLOW} bad=0 lost=0" in p.stdout, f"2 queues through VFIO, 64 flows: {p.stdout} {p.stderr}")
        vm.write_file("stop")
        rc = vm.wait(timeout=60)
    out = vm.stdout or ""
    before, after = (irq_counts(vm.read_file(f"irq-{i}.txt") or "") for i in (0, 1))
    print(f"  [vfio mq] MSI-X per vector, before/after the flows: "
          + ", ".join(f"{v} {before.get(v)}/{after.get(v)}" for v in sorted(after)))
    print("\n".join(f"  [vfio mq] {l}" for l in out.splitlines() if "queue" in l))
    check(rc == 0 and "server-exit=0" in out, f"guest exit {rc}: {out} {vm.stderr}")
    per_queue = {int(q): int(rx) for q, rx in re.findall(r"echo-server: queue (\d): rx=(\d+)", out)}
    check(sorted(per_queue) == [0, 1], f"a final line per queue: {out}")
    total = sum(per_queue.values())
    for q, rx in per_queue.items():
        check(rx * 5 >= total, f"queue {q} carried {rx} of {total} frames, under 20 %")
    check({"msix0", "msix1", "msix2"} <= set(after), f"three MSI-X vectors (config, RX 0, RX 1): {after}")
    for v in ("msix1", "msix2"):
        check(after[v] > before[v], f"RX queue vector {v} never fired while its queue had traffic: {before} {after}")
