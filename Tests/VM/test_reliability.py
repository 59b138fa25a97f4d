"""Reliability of the echo server on QEMU's virtio-net through the real uio_pci_generic.

1. test_reliability_kill9: under a steady 200 pps UDP echo load from the host, the server is
   killed with SIGKILL 20 times and restarted; every restart must answer within 2 s of its
   launch, and the guest kernel log must gain no error, warning, oops or IOMMU/DMA complaint.
   test_reliability_kill9_igb: the same, 5 times, on QEMU's igb (QEMU 10).
2. test_reliability_hostile: hostile frames (runts, oversize, bad IHL/version, IP total length
   past the frame, bad checksums, UDP length mismatches, fragments, ARP for other addresses,
   broadcast and multicast floods, VLAN tags) sent through an AF_PACKET socket on the tap.
   The server stays up, counts each class under its drop reason, answers none of them, and
   then answers ARP, ping and UDP echo correctly.
"""

import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from vmlib import VM, check, qemu_version  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("SWIFT_UIO_BIN", os.path.join(REPO, ".build", "release"))
ADDR = "0000:00:04.0"
KILLS = 20
LAUNCH_LIMIT = float(os.environ.get("SWIFT_UIO_RESTART_LIMIT", "2"))

# Kernel log lines that would mean the crash left the device or the kernel unhappy.
COMPLAINT = re.compile(r"error|warn|oops|bug|call trace|iommu|dmar|dma|fault|taint|uio|virtio", re.I)

# Host side: UDP datagrams to port 7 at a fixed rate until /stop appears or the time is up;
# the monotonic time of each reply goes to OUT, one line each (read while it runs).
LOAD = r'''
import os, socket, sys, time
ip, pps, limit, out, stop = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setblocking(False)
f = open(out, "w", buffering=1)
sent = got = 0; t0 = time.monotonic(); nxt = t0
while time.monotonic() - t0 < limit and not os.path.exists(stop):
    now = time.monotonic()
    if now >= nxt:
        try: s.sendto(b"load-%08d" % sent, (ip, 7)); sent += 1
        except OSError: pass   # no ARP entry yet, or a full queue: count as sent-and-lost
        nxt += 1.0 / pps
    try:
        while True:
            data, peer = s.recvfrom(2048); got += 1; f.write("%.4f\n" % time.monotonic())
    except BlockingIOError:
        time.sleep(0.001)
print("sent=%d received=%d" % (sent, got))
'''

def kill_guest(kills):
    return f"""
BIN={BIN}
dmesg > /results/dmesg-before.txt
# Each timed start is a *restart*: the binary has run before, as after a crash in production
# (the very first start also reads it over the guest's cold 9p cache).
$BIN/echo-server --help > /dev/null
for i in $(seq 1 {kills}); do
  log=/results/kill-$i.log
  mark STARTING-$i
  $BIN/echo-server {ADDR} --ip 192.0.2.2/24 --stats-interval 1 > $log 2>&1 &
  PID=$!
  n=0; while ! grep -q ready $log; do n=$((n+1)); [ $n -gt 300 ] && break; sleep 0.05; done
  mark READY-$i
  if ! wait_host answered-$i 15; then echo "restart $i: no answer"; cat $log; kill -9 $PID; exit 1; fi
  # Kill at a varying point of the load: 0 to 0.4 s after the first answer.
  sleep 0.$(( (i % 5) * 1 ))
  kill -9 $PID; wait $PID; echo "killed-$i rc=$?"
done
$BIN/echo-server {ADDR} --ip 192.0.2.2/24 > /results/final.log 2>&1 &
PID=$!
i=0; while ! grep -q ready /results/final.log; do i=$((i+1)); [ $i -gt 300 ] && exit 1; sleep 0.1; done
mark FINAL-READY
wait_host stop 120
kill -TERM $PID; wait $PID; echo "final-exit=$?"
cat /results/final.log
dmesg > /results/dmesg-after.txt
"""


def received(ping_output):
    m = re.search(r"\d+ received", ping_output)
    return m.group(0) if m else ping_output.strip()


def new_kernel_lines(vm):
    before = (vm.read_file("dmesg-before.txt") or "").splitlines()
    after = (vm.read_file("dmesg-after.txt") or "").splitlines()
    check(after, "no dmesg-after.txt from the guest")
    seen = set(before)
    return [l for l in after if l not in seen]


def time_restarts(vm, kills, out_path, delays, after_ready):
    """Follows the guest's STARTING-i / READY-i markers for `kills` restarts and appends, for
    each, the seconds from launch and from 'ready' to the first reply that the LOAD generator
    logged in `out_path`; then tells the guest (answered-i) to kill that instance."""
    for i in range(1, kills + 1):
        vm.wait_for_line(rf"^STARTING-{i}$", timeout=60)
        t_start = time.monotonic()
        vm.wait_for_line(rf"^READY-{i}$", timeout=30)
        t_ready = time.monotonic()

        # The first reply after the marker comes from this instance (the last one was
        # killed, and reaped, before the marker was written).
        def answered():
            try:
                with open(out_path) as f:
                    times = [float(x) for x in f.read().split()]
            except (FileNotFoundError, ValueError):
                return None
            later = [t for t in times if t > t_start]
            return later[0] if later else None
        t_answer = vm._poll(answered, 15, f"an answer from restart {i}")
        delays.append(t_answer - t_start)
        after_ready.append(max(0.0, t_answer - t_ready))
        vm.write_file(f"answered-{i}")


def test_reliability_kill9():
    run_kill9("legacy", KILLS)


def test_reliability_kill9_igb():
    print(f"  [igb] {qemu_version(['igb'])}")
    run_kill9("igb", 5)


def run_kill9(kind, kills):
    with VM(nics=[kind], guest_script=kill_guest(kills), timeout=600) as vm:
        vm.wait_for_command(timeout=120)
        out_path, stop_path = vm.path("load-replies.txt"), vm.path("load-stop")
        load = subprocess.Popen(["ip", "netns", "exec", vm.netns.name, "python3", "-c", LOAD,
                                 vm.guest_ip(0), "200", "400", out_path, stop_path],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        delays, after_ready = [], []
        try:
            time_restarts(vm, kills, out_path, delays, after_ready)
            vm.wait_for_line(r"^FINAL-READY", timeout=60)
            time.sleep(1.0)
        finally:
            open(stop_path, "w").close()
            load_out = load.communicate(timeout=30)[0].strip()
        ping = vm.netns_exec(["ping", "-c", "10", "-i", "0.05", "-W", "2", vm.guest_ip(0)], timeout=60).stdout
        vm.write_file("stop")
        rc = vm.wait(timeout=60)
        new = new_kernel_lines(vm)
        out = vm.stdout

    print(f"  [{kind}] SIGKILL x{kills} under load: first answer after launch, s: "
          f"min {min(delays):.2f} max {max(delays):.2f} "
          f"mean {sum(delays) / len(delays):.2f} ({', '.join('%.2f' % d for d in delays)})")
    print(f"  from 'ready' (as the host saw it) to the first answer, s: max {max(after_ready):.2f}")
    print(f"  load generator (200 pps): {load_out}")
    print(f"  ping after the kills: {received(ping)}")
    print(f"  guest kernel log: {len(new)} new lines during the run")
    for l in new:
        print(f"    dmesg: {l}")
    check(rc == 0, f"guest exit {rc}: {out} {vm.stderr}")
    check(out.count("rc=137") == kills, f"every kill must be a SIGKILL (rc 137): {out}")
    # Launch to first answer: 0.63 to 1.11 s measured (mean 0.81) once the mempool translated
    # per hugepage and the examples stopped loading Foundation/ICU; it was 1.5 to 4 s before.
    # SWIFT_UIO_RESTART_LIMIT (default 2 s, the requirement) may be raised on a loaded host.
    check(max(after_ready) <= 2.0, f"a restart took {max(after_ready):.2f} s (> 2 s) after 'ready' to answer: {after_ready}")
    check(max(delays) <= LAUNCH_LIMIT, f"a restart took {max(delays):.2f} s (> {LAUNCH_LIMIT} s) from launch to answer: {delays}")
    check(" 10 received" in ping, f"ping after the kills: {ping}")
    check("final-exit=0" in out and "stopped, device reset" in out, f"final SIGTERM: {out}")
    complaints = [l for l in new if COMPLAINT.search(l)]
    check(not complaints, "the guest kernel complained:\n" + "\n".join(complaints))


HOSTILE_GUEST = f"""
{BIN}/echo-server {ADDR} --ip 192.0.2.2/24 --stats-interval 1 > /results/hostile.log 2>&1 &
PID=$!
i=0; while ! grep -q ready /results/hostile.log; do i=$((i+1)); [ $i -gt 300 ] && exit 1; sleep 0.1; done
mark READY
wait_host stop 240
kill -0 $PID && echo "alive-before-stop"
kill -TERM $PID; wait $PID; echo "server-exit=$?"
"""

# Classes sent by hostile_frames.py -> the server's drop reason they must be counted under.
# Oversize frames do not reach the driver: QEMU drops a frame that does not fit the posted RX
# buffer when mergeable RX buffers are not negotiated; so they have no server counter.
EXPECTED_REASON = {
    "runt": "runt", "arp-malformed": "arp-malformed", "ip-bad-header": "ip-bad-header",
    "ip-options": "ip-options", "ip-bad-length": "ip-bad-length", "ip-bad-checksum": "ip-bad-checksum",
    "icmp-bad-checksum": "icmp-bad-checksum", "udp-bad-checksum": "udp-bad-checksum",
    "udp-length-mismatch": "udp-length-mismatch", "ip-fragment": "ip-fragment",
    "arp-other-target": "arp-other-target", "ip-bad-source": "ip-bad-source",
    "broadcast-flood": "not-for-us", "multicast-flood": "not-for-us", "not-for-us": "not-for-us",
    "vlan-tagged": "vlan-tagged", "src-mac-not-unicast": "src-mac-not-unicast",
    "arp-bad-sender": "arp-bad-sender", "udp-src-port-below-1024": "udp-src-port-below-1024",
}


def drop_counts(line):
    m = re.search(r"(?<![-\w])dropped=(\d+)(?: \(([^)]*)\))?", line)
    check(m is not None, f"no drop summary in {line!r}")
    detail = dict(kv.split("=") for kv in (m.group(2) or "").split())
    return int(m.group(1)), {k: int(v) for k, v in detail.items()}


def test_reliability_hostile():
    with VM(nics=["legacy"], guest_script=HOSTILE_GUEST, timeout=300) as vm:
        vm.wait_for_line(r"^READY", timeout=120)
        # Room for the oversize frames on the sending side (AF_PACKET checks the MTU).
        vm.netns_exec(["ip", "link", "set", vm.tap(0), "mtu", "9000"], check=True)
        tap_before = vm.tap_stats(0)
        p = vm.netns_exec(["python3", os.path.join(HERE, "hostile_frames.py"), vm.tap(0), vm.mac(0)], timeout=120)
        check(p.returncode == 0, f"hostile_frames.py: {p.stdout} {p.stderr}")
        result = json.loads(p.stdout.strip().splitlines()[-1])
        tap_after = vm.tap_stats(0)
        ping = vm.netns_exec(["ping", "-c", "5", "-i", "0.1", "-W", "2", vm.guest_ip(0)], timeout=60).stdout
        udp = vm.netns_exec(["python3", "-c",
                             "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2);"
                             "ok=0\nfor i in range(20):\n s.sendto(b'after-%d' % i, ('192.0.2.2', 7))\n"
                             " try: ok += s.recvfrom(2048)[0] == b'after-%d' % i\n except OSError: pass\nprint('udp-ok=%d' % ok)"],
                            timeout=60).stdout
        time.sleep(1.2)   # one more stats line
        stats_lines = [l for l in (vm.read_file("hostile.log") or "").splitlines() if "dropped=" in l]
        vm.write_file("stop")
        rc = vm.wait(timeout=60)
        log = vm.read_file("hostile.log") or ""
    final = [l for l in log.splitlines() if "stopped, device reset" in l]
    check(final, f"no final stats line: {log}")
    total, counts = drop_counts(final[0])
    expected = {}
    for cls, n in result["sent"].items():
        if cls in EXPECTED_REASON:
            expected[EXPECTED_REASON[cls]] = expected.get(EXPECTED_REASON[cls], 0) + n
    print(f"  sent: {result['sent']}")
    print(f"  tap tx (to guest) during the storm: {tap_after['tx_packets'] - tap_before['tx_packets']} frames, "
          f"tx_dropped +{tap_after['tx_dropped'] - tap_before['tx_dropped']}")
    print(f"  periodic stats lines: {len(stats_lines)}; final: {final[0]}")
    print(f"  drops expected by reason: {expected}")
    print(f"  unexpected frames from the guest during the storm: {len(result['unexpected'])}")
    print(f"  legit after the storm: {result['legit']}; ping: "
          f"{received(ping)}; {udp.strip()}")
    check(rc == 0 and "alive-before-stop" in vm.stdout and "server-exit=0" in vm.stdout,
          f"server must survive and exit 0: rc {rc} {vm.stdout} {vm.stderr}")
    check(len(stats_lines) >= 2, f"--stats-interval 1 printed {len(stats_lines)} lines")
    check(not result["unexpected"], f"the guest answered hostile frames: {result['unexpected'][:5]}")
    # ARP: our request, plus any the host kernel sends on its own while the echoes arrive.
    legit = result["legit"]
    check(legit["arp"] >= 1 and legit["icmp"] == 5 and legit["udp"] == 5 and not legit["other"], f"legit replies: {legit}")
    check(" 5 received" in ping, f"ping after the storm: {ping}")
    check("udp-ok=20" in udp, f"UDP echo after the storm: {udp}")
    for reason, n in expected.items():
        check(counts.get(reason, 0) == n, f"drop reason {reason}: counted {counts.get(reason, 0)}, sent {n}: {final[0]}")
    check(set(counts) <= set(expected), f"drops under reasons nothing was sent for: {counts}")
    # Oversize frames: every class above is counted exactly, so an oversize frame that reached
    # the responder would show as a surplus or an unknown reason, and a truncated echo of one
    # as an unexpected frame. Check that they did enter QEMU (the tap sent them all).
    into_guest = tap_after["tx_packets"] - tap_before["tx_packets"]
    check(into_guest >= sum(result["sent"].values()),
          f"the tap passed {into_guest} frames to QEMU, fewer than the {sum(result['sent'].values())} sent")
    check("oversize" in result["sent"] and "oversize" not in EXPECTED_REASON, "oversize frames were not sent")
