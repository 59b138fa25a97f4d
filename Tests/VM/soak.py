#!/usr/bin/env python3
"""Soak test, not part of run.py (it is not a test_*.py file):

    python3 Tests/VM/soak.py [--minutes 10] [--pps 500] [--flap-every 30]

Steady UDP echo load from the host to the echo server on a legacy virtio-net NIC bound to
uio_pci_generic, with the link flapped through QMP set_link every --flap-every seconds.
Reports packets sent and answered, the server's drops, tap counters, the server's RSS
(VmRSS) and its mempool's free buffers (pool-free) at start and end. Bounded: the VM's own
timeout is the soak time plus 5 minutes. Exit status 1 if the server died, the pool lost
buffers, or fewer than 95 % of datagrams came back.
"""

import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from vmlib import VM  # noqa: E402
import test_reliability as tr  # noqa: E402  (the load generator)

ADDR = "0000:00:04.0"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--pps", type=int, default=500)
    ap.add_argument("--flap-every", type=float, default=30)
    a = ap.parse_args()
    seconds = a.minutes * 60
    guest = f"""
{tr.BIN}/echo-server {ADDR} --ip 192.0.2.2/24 --stats-interval 5 > /results/soak.log 2>&1 &
PID=$!
i=0; while ! grep -q ready /results/soak.log; do i=$((i+1)); [ $i -gt 300 ] && exit 1; sleep 0.1; done
sleep 6
echo "rss-start $(grep VmRSS /proc/$PID/status)"
mark READY
wait_host measure-end {int(seconds) + 120}
echo "rss-end $(grep VmRSS /proc/$PID/status)"
kill -0 $PID && echo alive
wait_host stop 60
kill -TERM $PID; wait $PID; echo "server-exit=$?"
"""
    with VM(nics=["legacy"], guest_script=guest, timeout=int(seconds) + 300) as vm:
        vm.wait_for_line(r"^READY", timeout=120)
        start_stats = [l for l in (vm.read_file("soak.log") or "").splitlines() if "pool-free=" in l]
        tap0 = vm.tap_stats(0)
        out_path, stop_path = vm.path("soak-replies.txt"), vm.path("soak-stop")
        load = subprocess.Popen(["ip", "netns", "exec", vm.netns.name, "python3", "-c", tr.LOAD,
                                 vm.guest_ip(0), str(a.pps), str(seconds), out_path, stop_path],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        t0, flaps, next_flap = time.monotonic(), 0, time.monotonic() + a.flap_every
        try:
            while load.poll() is None and time.monotonic() - t0 < seconds + 30:
                if time.monotonic() >= next_flap:
                    vm.set_link(0, False)
                    time.sleep(0.5)
                    vm.set_link(0, True)
                    flaps += 1
                    next_flap += a.flap_every
                time.sleep(0.1)
        finally:
            open(stop_path, "w").close()
            load_out = load.communicate(timeout=60)[0].strip()
        time.sleep(6)   # let the last replies and a stats line arrive
        tap1 = vm.tap_stats(0)
        end_stats = [l for l in (vm.read_file("soak.log") or "").splitlines() if "pool-free=" in l]
        vm.write_file("measure-end")
        vm.wait_for_line(r"^(alive|rss-end)", timeout=30)
        vm.write_file("stop")
        rc = vm.wait(timeout=60)
    out = vm.stdout or ""
    log = vm.read_file("soak.log") or ""
    rss = re.findall(r"rss-(start|end) VmRSS:\s+(\d+) kB", out)
    pool = lambda lines: re.search(r"pool-free=(\d+)", lines[-1]).group(1) if lines else "?"  # noqa: E731
    final = [l for l in log.splitlines() if "stopped, device reset" in l]
    m = re.search(r"sent=(\d+) received=(\d+)", load_out)
    sent, got = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    print(f"soak: {a.minutes} min at {a.pps} pps, {flaps} link flaps (QMP set_link off 0.5 s, on)")
    print(f"  load: {load_out} ({100.0 * got / max(sent, 1):.2f} % answered)")
    print(f"  tap: to guest +{tap1['tx_packets'] - tap0['tx_packets']} (tx_dropped +{tap1['tx_dropped'] - tap0['tx_dropped']}), "
          f"from guest +{tap1['rx_packets'] - tap0['rx_packets']}")
    print(f"  RSS: {' -> '.join(v + ' kB' for _, v in rss)}")
    print(f"  pool-free: start {pool(start_stats)}, end {pool(end_stats)}")
    print(f"  link changes seen by the server: {log.count('echo-server: link down')} down, {log.count('echo-server: link up')} up")
    print(f"  final: {final[0] if final else '(none)'}")
    # Idle at start, no buffer is out; idle at the end, the last sent buffers stay on the TX
    # ring until the next transmit reclaims them. So up to a TX ring (256) may be out; a leak
    # over tens of thousands of packets would show as far more.
    start_free, end_free = int(pool(start_stats)), int(pool(end_stats))
    ok = rc == 0 and "alive" in out and "server-exit=0" in out and start_free - end_free <= 256 \
        and got >= 0.95 * sent
    print("soak: PASS" if ok else f"soak: FAIL (rc {rc}; run dir {vm.run_dir})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
