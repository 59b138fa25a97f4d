"""VFIO against UIO on one VM: `python3 Benchmarks/vfio_vs_uio.py [--rounds N]`.

One q35 guest with an emulated Intel IOMMU (intel_iommu=on iommu=pt) and one modern virtio-net
NIC with iommu_platform=on, so that both routes see the same device and the same QEMU: the NIC
starts on vfio-pci (swift-uio maps IOVAs through the IOMMU); then `uioctl unbind` and
`uioctl bind` move it to uio_pci_generic (identity domain, physical addresses from pagemap).
For each route, alternately: pktgen for 5 s of 60-byte frames to a unicast MAC no host
claims (counted on the host tap), and the echo server under the C UDP load generator at
fixed offered rates (best reply rate kept). Loads are bounded in rate and time.
"""

import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "Tests", "VM"))
sys.path.insert(0, HERE)
from vmlib import VM  # noqa: E402
from vm_bench import build_c, udp_load  # noqa: E402

BIN = os.path.join(REPO, ".build", "release")
ADDR = "0000:00:04.0"
RATES = [20_000, 40_000, 80_000]


def guest_script(rounds):
    phases = []
    for r in range(rounds):
        for backend in ("vfio", "uio"):
            bind = (f"$BIN/uioctl unbind $ADDR >/dev/null; $BIN/uioctl bind {'--vfio ' if backend == 'vfio' else ''}$ADDR >/dev/null || exit 1"
                    if (r, backend) != (0, "vfio") else ":")
            phases.append(f"""
{bind}
mark START-PKTGEN-{r}-{backend}
$BIN/pktgen $ADDR --seconds 5 --dst-mac 02:00:00:00:00:99 > /results/pktgen-{r}-{backend}.log 2>&1
mark DONE-PKTGEN-{r}-{backend}
$BIN/echo-server $ADDR --ip 192.0.2.2/24 > /results/echo-{r}-{backend}.log 2>&1 &
PID=$!
i=0; until grep -q ready /results/echo-{r}-{backend}.log; do i=$((i+1)); [ $i -gt 300 ] && exit 1; sleep 0.1; done
mark READY-ECHO-{r}-{backend}
wait_host stop-{r}-{backend} 600
kill -TERM $PID; wait $PID""")
    return f"BIN={BIN}\nADDR={ADDR}\necho 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6\n" + "\n".join(phases)


def main():
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 1
    build_c()
    results = {"vfio": {"pktgen": [], "echo": []}, "uio": {"pktgen": [], "echo": []}}
    with VM(nics=["modern"], uio=False, vfio=True, machine="q35", iommu=True,
            guest_script=guest_script(rounds), timeout=300 + 240 * rounds) as vm:
        for r in range(rounds):
            for backend in ("vfio", "uio"):
                vm.wait_for_line(rf"^START-PKTGEN-{r}-{backend}$", timeout=180)
                before = vm.tap_stats(0)["rx_packets"]
                vm.wait_for_line(rf"^DONE-PKTGEN-{r}-{backend}$", timeout=120)
                arrived = vm.tap_stats(0)["rx_packets"] - before
                log = vm.read_file(f"pktgen-{r}-{backend}.log") or ""
                m = re.search(r"sent (\d+) packets in ([\d.]+) s", log)
                if not m:
                    raise RuntimeError(f"pktgen {backend}: {log}")
                kpps = arrived / float(m.group(2)) / 1000
                results[backend]["pktgen"].append(kpps)
                vm.wait_for_line(rf"^READY-ECHO-{r}-{backend}$", timeout=120)
                time.sleep(0.5)
                best = max(udp_load(vm, rate, 3)["rate"] for rate in RATES) / 1000
                results[backend]["echo"].append(best)
                print(f"round {r} {backend}: pktgen {kpps:.0f} kpps on the tap, echo best {best:.1f} k replies/s", flush=True)
                vm.write_file(f"stop-{r}-{backend}")
        vm.wait(timeout=120)
    qemu = os.popen("qemu-system-x86_64 --version").read().splitlines()[0]
    print(f"\n{qemu}; TCG, 1 vCPU, q35 + intel-iommu, modern virtio-net iommu_platform=on; offered echo rates {RATES}")
    print("| route | pktgen 60 B (kpps on tap) | UDP echo (k replies/s, best) |\n| --- | --- | --- |")
    for backend in ("vfio", "uio"):
        p, e = results[backend]["pktgen"], results[backend]["echo"]
        print(f"| {backend} | {', '.join(f'{x:.0f}' for x in p)} | {', '.join(f'{x:.1f}' for x in e)} |")


if __name__ == "__main__":
    main()
