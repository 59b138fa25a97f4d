"""Multi-queue benchmark (issue 14): UDP echo rate of `echo-server --queues 1` and
`--queues 2` on the same two-queue virtio-net NIC (mq=on, multi_queue tap, queues=2),
QEMU TCG with 2 vCPUs, and the CPU time of each of the server's threads.

Run as root after `swift build -c release`: `python3 Benchmarks/mq_bench.py [legacy|modern] [RATE,RATE,...]`.
The load is 8 copies of Benchmarks/udp-load (8 UDP flows, one socket each, so the tap
spreads them over both queues), together offering each listed rate for 3 s; the best
answered rate is reported. Bounded in rate and time; it stays in the harness's namespace.
Separate from vm_bench.py (scripts/bench) so that the two can change independently.
"""

import os
import re
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
    sent = got = 0
    span = 0.0
    for p in procs:
        out, err = p.communicate(timeout=60)
        m = re.search(r"sent (\d+) got (\d+) in ([\d.]+)", out)
        if not m:
            raise RuntimeError(f"udp_load: {out} {err}")
        sent += int(m.group(1))
        got += int(m.group(2))
        span = max(span, float(m.group(3)))
    return sent / span, got / span


def run(kind, queues, rates):
    guest = f"""{BIN}/echo-server 0000:00:04.0 --ip 192.0.2.2/24 --queues {queues} > /results/echo.log 2>&1 &
PID=$!
i=0; until grep -q ready /results/echo.log; do i=$((i+1)); [ $i -gt 300 ] && exit 1; sleep 0.1; done
echo started > /results/started
wait_host stop 600
for t in /proc/$PID/task/*; do echo "thread $(cat $t/comm) $(awk '{{print $14 + $15}}' $t/stat)"; done > /results/threads
kill -TERM $PID; wait $PID"""
    with VM(nics=[kind], uio=True, guest_script=guest, timeout=600, smp=2, queues=2) as vm:
        vm.wait_for_file("started", timeout=150)
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
    for queues in (1, 2):
        results, threads, log = run(kind, queues, rates)
        best = max(got for _, _, got in results)
        print(f"{kind} echo-server --queues {queues}: best {best / 1000:.1f} k/s answered; "
              + ", ".join(f"{o / 1000:.0f}k offered -> {g / 1000:.1f}k" for _, o, g in results))
        print(f"  CPU ticks per thread (1/100 s, whole run): {'; '.join(threads)}")
        for line in log.splitlines():
            if "queue" in line and "rx=" in line:
                print("  " + line)


if __name__ == "__main__":
    main()
