"""The benchmark's own tools, checked for exact counts (scripts/bench relies on them).

- The C frame source (Benchmarks/frame-source) sends exactly the frames it says, and
  `pktgen --receive-only` counts exactly the frames that reached the guest: 3000 frames at
  5 kpps into tap0 (the tap's 1000-frame queue covers 200 ms of QEMU not reading); the
  source's line (none dropped), the tap's tx_packets and pktgen's final
  `received N packets` all read 3000.
"""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import VM, check  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SWIFT_UIO_BIN", os.path.join(REPO, ".build", "release"))
SOURCE_EXE = "/tmp/swift-uio-test-frame-source"


def test_pktgen_receive_only_counts_every_frame():
    subprocess.run(["gcc", "-O2", "-Wall", "-o", SOURCE_EXE,
                    os.path.join(REPO, "Benchmarks", "frame-source", "frame_source.c")], check=True)
    guest = f"""{BIN}/pktgen 0000:00:04.0 --receive-only --seconds 300 > /results/rx.log 2>&1 &
PID=$!
wait_host stop 300
kill -INT $PID; wait $PID"""
    count = 3000
    with VM(nics=["legacy"], uio=True, guest_script=guest, timeout=360) as vm:
        vm.wait_for_line(r"receive only.*ready", source="rx.log", timeout=150)
        before = vm.tap_stats(0)["tx_packets"]
        # 5 kpps is far below what the guest takes; the count is exact, bounded at 10 s.
        p = vm.netns_exec([SOURCE_EXE, vm.tap(0), vm.mac(0), "02:00:00:00:00:01", "5000", "10", str(count)], timeout=30)
        check(f"sent {count} frames" in p.stdout and f"{count} accepted by the interface, 0 dropped" in p.stdout,
              f"frame_source: {p.stdout} {p.stderr}")
        time.sleep(1)
        into_guest = vm.tap_stats(0)["tx_packets"] - before
        vm.write_file("stop")
        rc = vm.wait(timeout=60)
        log = vm.read_file("rx.log")
    check(rc == 0, f"guest rc {rc}: {log}")
    check(into_guest == count, f"the tap handed {into_guest} frames to QEMU, expected {count}")
    m = re.search(r"received (\d+) packets in ([\d.]+) s", log)
    check(m is not None, f"no final line in pktgen's output: {log}")
    check(int(m.group(1)) == count, f"pktgen counted {m.group(1)} frames, the host sent {count}: {log}")


if __name__ == "__main__":
    test_pktgen_receive_only_counts_every_frame()
    print("ok")
