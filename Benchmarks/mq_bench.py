"""Multi-queue benchmark (issue 14): UDP echo rate of `echo-server --queues 1` and
`--queues 2` on the same two-queue NIC (virtio-net with mq=on and a multi_queue tap with
queues=2, or QEMU's igb with RSS), QEMU TCG with 2 vCPUs, and the CPU time of each of the
server's threads; beside it DPDK's testpmd in `5tswap` mode (it swaps the MAC, IP and UDP
port pairs of each frame, which makes it a UDP echo) with `--rxq=N --txq=N --nb-cores=N`.
The host has a static neighbour entry for testpmd, which does not answer ARP. The sides
alternate, RUNS runs each; the median of each side's best answered rate is reported.

Run as root after `swift build -c release`:
`python3 Benchmarks/mq_bench.py [legacy|modern|igb] [RATE,RATE,...] [RUNS]`.
The load is 8 copies of Benchmarks/udp-load (8 UDP flows, one socket each, so the tap
spreads them over both queues), together offering each listed rate for 3 s; the best
answered rate is reported. Bounded in rate and time; it stays in the harness's namespace.
Separate from vm_bench.py (scripts/bench) so that the two can change independently.
"""

import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "Tests", "VM"))
from vmlib import VM  # noqa: E402

BIN = os.path.join(REPO, ".build", "release")
LOAD_EXE = "/tmp/swift-uio-udp-load"
FLOWS = 8


def echo_rate(vm, rate, seconds=3):
    """(offered, answered) per second over FLOWS concurrent generators."""
    procs = [subprocess.Popen(["ip", "netns", "exec", vm.netns.name, LOAD_EXE, vm.guest_ip(0), str(rate // FLOWS), str(seconds)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(FLOWS)]
    offered = answered = 0.0
    for p in procs:
        out, err = p.communicate(timeout=60)
        # udp_load counts replies in a window after its warm-up and divides by that window.
        m = re.search(r"sent (\d+) in ([\d.]+) s, replies \d+ in the [\d.]+ s window \((\d+)/s\)", out)
        if not m:
            raise RuntimeError(f"udp_load: {out} {err}")
        offered += int(m.group(1)) / float(m.group(2))
        answered += int(m.group(3))
    return offered, answered


def testpmd_command(queues):
    # Main lcore and the forwarding lcores spread over the 2 vCPUs (lcore 0 only prints stats).
    lcores = "0@0,1@0" if queues == 1 else "0@0,1@0,2@1"
    return (f"dpdk-testpmd --lcores='{lcores}' -n 1 --in-memory -m 100 -a 0000:00:04.0 -- "
            f"--forward-mode=5tswap --rxq={queues} --txq={queues} --nb-cores={queues} "
            f"--total-num-mbufs=8192 --stats-period 1")


def run(kind, queues, rates, side="swift-uio"):
    if side == "swift-uio":
        start = f"{BIN}/echo-server 0000:00:04.0 --ip 192.0.2.2/24 --queues {queues} > /results/echo.log 2>&1 &"
        ready = "ready"
    else:
        start = testpmd_command(queues) + " > /results/echo.log 2>&1 &"
        ready = "Port statistics"
    guest = f"""{start}
PID=$!
i=0; until grep -q '{ready}' /results/echo.log; do i=$((i+1)); [ $i -gt 600 ] && {{ cat /results/echo.log; exit 1; }}; sleep 0.1; done
echo started > /results/started
wait_host stop 600
for t in /proc/$PID/task/*; do echo "thread $(cat $t/comm) $(awk '{{print $14 + $15}}' $t/stat)"; done > /results/threads
kill -INT $PID; wait $PID"""
    nic_queues = 2 if kind != "igb" else 1   # igb has its 16 queues whatever the tap has
    with VM(nics=[kind], uio=True, guest_script=guest, timeout=600, smp=2, queues=nic_queues) as vm:
        vm.wait_for_file("started", timeout=300)
        if side != "swift-uio":
            vm.netns_exec(["ip", "neigh", "replace", vm.guest_ip(0), "lladdr", vm.mac(0), "dev", vm.tap(0)])
        results = [(r, *echo_rate(vm, r)) for r in rates]
        vm.write_file("stop")
        vm.wait(timeout=60)
        threads = open(os.path.join(vm.results, "threads")).read().strip().splitlines()
        log = open(os.path.join(vm.results, "echo.log")).read()
    return results, threads, log


def main():
    kind = sys.argv[1] if len(sys.argv) > 1 else "legacy"
    subprocess.run(["gcc", "-O2", "-pthread", "-o", LOAD_EXE, os.path.join(HERE, "udp-load", "udp_load.c")], check=True)
    rates = [int(r) for r in sys.argv[2].split(",")] if len(sys.argv) > 2 else [20_000, 40_000, 80_000]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    best = {}
    sides = [(side, queues) for queues in (1, 2) for side in ("swift-uio", "testpmd")]
    for r in range(runs):
        # Alternate, and reverse the order every other round, so drift favours neither side.
        for side, queues in (sides if r % 2 == 0 else list(reversed(sides))):
            results, threads, log = run(kind, queues, rates, side)
            top = max(got for _, _, got in results)
            best.setdefault((side, queues), []).append(top)
            name = f"echo-server --queues {queues}" if side == "swift-uio" else f"testpmd 5tswap --rxq={queues}"
            print(f"run {r + 1}: {kind} {name}: best {top / 1000:.1f} k/s answered; "
                  + ", ".join(f"{o / 1000:.0f}k offered -> {g / 1000:.1f}k" for _, o, g in results))
            print(f"  CPU ticks per thread (1/100 s, whole run): {'; '.join(threads)}")
            for line in log.splitlines():
                if "queue" in line and "rx=" in line:
                    print("  " + line)
    print(f"\n{kind}, median of {runs} alternating runs of the best answered rate (k replies/s; offered {rates}):")
    for queues in (1, 2):
        ours, theirs = statistics.median(best[("swift-uio", queues)]), statistics.median(best[("testpmd", queues)])
        print(f"  {queues} queue{'s' if queues > 1 else ''}: swift-uio {ours / 1000:.1f} "
              f"({', '.join(f'{x / 1000:.1f}' for x in best[('swift-uio', queues)])}), "
              f"testpmd {theirs / 1000:.1f} ({', '.join(f'{x / 1000:.1f}' for x in best[('testpmd', queues)])}), "
              f"ratio {ours / theirs:.2f}" if theirs else "")


if __name__ == "__main__":
    main()
