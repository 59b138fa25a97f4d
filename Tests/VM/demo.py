"""The README's demo: echo-server on a legacy (or --modern) virtio-net NIC in a QEMU guest,
pinged from the host. Prints the ping output and the server's own log."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import VM  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
kind = "modern" if "--modern" in sys.argv else "legacy"
guest = f"""
{REPO}/.build/release/echo-server 0000:00:04.0 --ip 192.0.2.2/24 --stats-interval 1 > /results/server.log 2>&1 &
PID=$!
i=0; until grep -q ready /results/server.log; do i=$((i+1)); [ $i -gt 300 ] && exit 1; sleep 0.1; done
mark READY
wait_host stop 120
kill -TERM $PID; wait $PID
"""
print(f"booting a QEMU guest with a {kind} virtio-net NIC bound to uio_pci_generic ...", flush=True)
with VM(nics=[kind], uio=True, guest_script=guest, timeout=240) as vm:
    vm.wait_for_line(r"^READY", timeout=150)
    print(vm.read_file("server.log").strip(), flush=True)
    print(f"$ ping -c 5 {vm.guest_ip(0)}   (from the host side of the tap)", flush=True)
    p = vm.netns_exec(["ping", "-c", "5", "-i", "0.2", vm.guest_ip(0)], timeout=60)
    print(p.stdout, flush=True)
    vm.write_file("stop")
    rc = vm.wait(timeout=60)
print(vm.read_file("server.log").strip().splitlines()[-1])
ok = rc == 0 and " 0% packet loss" in p.stdout
print("demo: " + ("the host pinged swift-uio's echo server through uio_pci_generic" if ok else "FAILED"))
sys.exit(0 if ok else 1)
