"""pktgen and forwarder in the VM, and pcap output that tshark reads.

- pktgen on a legacy NIC and on QEMU's igb: frames leave the guest (counted on the host tap),
  the final line reads `sent N packets in S s (X pps)`, and rate-limited frames arrive
  numbered without a gap.
- forwarder between two NICs: 200 frames the host writes into tap0 come out of tap1, and 200
  written into tap1 come out of tap0, every one of them (no loss at 500 frames/s in either
  direction), touched; the forwarder's own counters agree, and the --pcap file parses with
  tshark and holds all 400. The same both ways between an igb and a virtio NIC. In its
  default hybrid mode the idle forwarder uses at most 2 % of a core, and the frames wake it
  through both NICs' interrupts.
- echo-server --pcap: tshark decodes the ICMP echo requests it captured.
"""

import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import VM, check, qemu_version  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SWIFT_UIO_BIN", os.path.join(REPO, ".build", "release"))
FORWARD_COUNT = 200   # frames each way

# The host side of the forwarding checks (numbered frames in, touched frames counted out).
FORWARD_CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "forward_check.py")


# Host side: the sequence numbers (byte 42) of pktgen's UDP frames, until STOP exists or
# SECONDS have passed.
CAPTURE_SEQ = r'''
import os, socket, struct, sys, time
tap, seconds, stop = sys.argv[1], float(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
# A large receive buffer: on a loaded host this Python loop falls behind in bursts, and the
# frames it has not read yet must wait in the socket, not be dropped by it.
s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 8 << 20)   # root: past rmem_max
s.bind((tap, 0)); s.settimeout(0.2)
print("capturing", flush=True)
seqs, end = [], time.time() + seconds
while time.time() < end and not os.path.exists(stop):
    try:
        data = s.recv(2048)
    except socket.timeout:
        continue
    if len(data) >= 46 and data[23] == 17 and data[36:38] == b"\x00\x09":   # UDP to port 9
        seqs.append(struct.unpack("!I", data[42:46])[0])
print(" ".join(map(str, seqs)))
'''


def test_pktgen_legacy():
    run_pktgen_checks("legacy")


def test_pktgen_igb():
    print(f"  [igb] {qemu_version(['igb'])}")
    run_pktgen_checks("igb")


def run_pktgen_checks(kind):
    guest = f"""
{BIN}/pktgen 0000:00:04.0 --seconds 3 --size 60 --batch 64 > /results/pktgen.log 2>&1
echo "pktgen-exit=$?"
cat /results/pktgen.log
wait_host capturing 60
{BIN}/pktgen 0000:00:04.0 --seconds 2 --rate 2000 > /results/pktgen-rate.log 2>&1
echo "pktgen-rate-exit=$?"
"""
    with VM(nics=[kind], uio=True, guest_script=guest, timeout=180) as vm:
        vm.wait_for_line(r"ready", source="pktgen.log", timeout=120)
        before = vm.tap_stats(0)["rx_packets"]
        vm.wait_for_line(r"^pktgen-exit=", timeout=60)
        arrived = vm.tap_stats(0)["rx_packets"] - before
        capture = subprocess.Popen(["ip", "netns", "exec", vm.netns.name, "python3", "-c", CAPTURE_SEQ,
                                    vm.tap(0), "30", vm.path("capture-stop")], stdout=subprocess.PIPE, text=True)
        check(capture.stdout.readline().strip() == "capturing", "the capture did not start")
        rate_before = vm.tap_stats(0)["rx_packets"]
        vm.write_file("capturing")
        rc = vm.wait(timeout=60)
        rate_arrived = vm.tap_stats(0)["rx_packets"] - rate_before
        time.sleep(0.5)   # the last frames reach the capture
        open(vm.path("capture-stop"), "w").close()
        seqs = [int(x) for x in capture.communicate(timeout=30)[0].split()]
    print(f"  [{kind}] host tap counted {arrived} frames from the guest")
    out = vm.stdout
    print("\n".join("  " + l for l in out.splitlines()[-4:-1]))
    check(rc == 0 and "pktgen-exit=0" in out, f"pktgen failed: {out} {vm.stderr}")
    m = re.search(r"^sent (\d+) packets in ([\d.]+) s \((\d+) pps\)$", out, re.M)
    check(m is not None, f"no summary line: {out}")
    check(int(m.group(1)) > 1000, f"pktgen sent only {m.group(1)} packets")
    check(arrived >= int(m.group(1)) * 0.9, f"tap counted {arrived}, pktgen reported {m.group(1)}")
    # --rate 2000 for 2 s: about 4,000 frames, numbered 0, 1, 2, ... without a gap.
    print(f"  --rate 2000 --seconds 2: tap counted {rate_arrived} frames, the capture read {len(seqs)}, "
          f"sequence {seqs[:1]}..{seqs[-1:]}")
    check("pktgen-rate-exit=0" in out, f"rate-limited pktgen failed: {out}")
    check(3600 <= len(seqs) <= 4200, f"--rate 2000 for 2 s: {len(seqs)} frames captured")
    check(seqs == list(range(len(seqs))), "sequence numbers have gaps or repeats: "
          f"first differences at {[i for i, v in enumerate(seqs) if v != i][:5]}")


def forward(vm, a, b):
    """FORWARD_COUNT frames written into tap a must all come out of tap b, touched."""
    p = vm.netns_exec(["python3", FORWARD_CHECK, vm.tap(a), vm.tap(b), "raw", str(FORWARD_COUNT)], timeout=60)
    print(f"  tap{a} -> tap{b}: {p.stdout.strip()} {p.stderr.strip()}")
    m = re.search(r"forwarded (\d+) of (\d+), untouched (\d+)", p.stdout)
    check(m is not None, f"tap{a} -> tap{b}: sender failed: {p.stdout} {p.stderr}")
    # 500 frames/s is far below what the forwarder moves (tens of kpps): any loss is a bug.
    check(int(m.group(1)) == FORWARD_COUNT, f"forwarder lost frames tap{a} -> tap{b}: {p.stdout}")
    check(int(m.group(3)) == 0, f"tap{a} -> tap{b}: frames came out without the forwarder's touch: {p.stdout}")


def test_forwarder_igb_virtio():
    print(f"  [igb] {qemu_version(['igb'])}")
    guest = f"""
{BIN}/forwarder 0000:00:04.0 0000:00:05.0 > /results/fwd.log 2>&1 &
PID=$!
wait_host stop 120
kill -TERM $PID; wait $PID; echo "forwarder-exit=$?"
cat /results/fwd.log
"""
    with VM(nics=["igb", "legacy"], uio=True, guest_script=guest, timeout=240) as vm:
        vm.wait_for_line(r"ready", source="fwd.log", timeout=120)
        for a, b in ((0, 1), (1, 0)):
            forward(vm, a, b)
        vm.write_file("stop")
        rc = vm.wait(timeout=60)
    check(rc == 0 and "forwarder-exit=0" in vm.stdout, f"forwarder exit: {vm.stdout} {vm.stderr}")


def test_forwarder_and_pcap():
    guest = f"""
{BIN}/forwarder 0000:00:04.0 0000:00:05.0 --pcap /results/fwd.pcap > /results/fwd.log 2>&1 &
PID=$!
mark STARTED
i=0; until grep -q ready /results/fwd.log; do i=$((i+1)); [ $i -gt 600 ] && exit 1; sleep 0.1; done
sleep 1
c0=$(awk '{{print $14 + $15}}' /proc/$PID/stat); sleep 3; c1=$(awk '{{print $14 + $15}}' /proc/$PID/stat)
echo "idle-ticks=$((c1 - c0))" > /results/idle
wait_host stop 120
kill -TERM $PID; wait $PID; echo "forwarder-exit=$?"
cat /results/fwd.log
"""
    with VM(nics=["legacy", "legacy"], uio=True, guest_script=guest, timeout=240) as vm:
        vm.wait_for_line(r"ready", source="fwd.log", timeout=120)
        idle = int(vm.wait_for_line(r"idle-ticks=(\d+)", source="idle", timeout=120).group(1))
        for a, b in ((0, 1), (1, 0)):
            forward(vm, a, b)
        vm.write_file("stop")
        rc = vm.wait(timeout=60)
        pcap = os.path.join(vm.results, "fwd.pcap")
        check(os.path.exists(pcap), "no pcap file written")
        frames = count_with_tshark(pcap, "eth.type == 0x88b5")
        log = vm.read_file("fwd.log") or ""
    print(f"  tshark read {frames} forwarded frames from the pcap")
    final = [l for l in log.splitlines() if "forwarder: stopped" in l]
    print(f"  {final[-1] if final else log}")
    check(rc == 0 and "forwarder-exit=0" in vm.stdout, f"forwarder exit: {vm.stdout} {vm.stderr}")
    check(frames == 2 * FORWARD_COUNT, f"tshark saw {frames} frames in the pcap, expected {2 * FORWARD_COUNT}")
    # The forwarder's counters: each port received one direction's frames and sent the other's.
    m = re.search(r"rx=(\d+) tx=(\d+).*?, \S+ rx=(\d+) tx=(\d+).*dropped=(\d+)", final[-1] if final else "")
    check(m is not None, f"no final forwarder line: {log}")
    rx_a, tx_a, rx_b, tx_b, dropped = map(int, m.groups())
    check(rx_a >= FORWARD_COUNT and rx_b >= FORWARD_COUNT and tx_b == rx_a and tx_a == rx_b and dropped == 0,
          f"forwarder counters do not add up: {final[-1]}")
    # Hybrid (the default): asleep on both NICs' interrupts while idle, woken by them while
    # frames trickle in at 500/s, each way in turn.
    print(f"  idle: {idle} CPU ticks of 300 over 3 s")
    check(idle <= 6, f"the idle forwarder used {idle} of 300 ticks (over 2 % of a core): it does not sleep")
    m = re.search(r"interrupts=(\d+)/(\d+)", final[-1])
    check(m is not None and min(map(int, m.groups())) >= FORWARD_COUNT // 4,
          f"the forwarder was not woken by each NIC's interrupts (at least {FORWARD_COUNT // 4} each): {final[-1]}")


def count_with_tshark(path, display_filter):
    tshark = shutil.which("tshark")
    check(tshark is not None, "tshark is missing: apt-get install tshark")
    out = subprocess.run([tshark, "-r", path, "-Y", display_filter, "-T", "fields", "-e", "frame.number"],
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, f"tshark could not read {path}: {out.stderr}")
    return len([l for l in out.stdout.splitlines() if l.strip()])


def test_echo_server_pcap():
    guest = f"""
{BIN}/echo-server 0000:00:04.0 --ip 192.0.2.2/24 --pcap /results/echo.pcap > /results/echo.log 2>&1 &
PID=$!
mark STARTED
wait_host stop 120
kill -TERM $PID; wait $PID
"""
    with VM(nics=["legacy"], uio=True, guest_script=guest, timeout=180) as vm:
        vm.wait_for_line(r"ready", source="echo.log", timeout=120)
        vm.netns_exec(["ping", "-c", "5", "-i", "0.1", vm.guest_ip(0)], timeout=30)
        vm.write_file("stop")
        vm.wait(timeout=60)
        requests = count_with_tshark(os.path.join(vm.results, "echo.pcap"), "icmp.type == 8")
    print(f"  tshark decoded {requests} ICMP echo requests from the echo-server's pcap")
    check(requests == 5, f"expected 5 ICMP echo requests in the pcap, tshark found {requests}")
