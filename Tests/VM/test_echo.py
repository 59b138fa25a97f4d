"""The echo server on QEMU's virtio-net and QEMU's igb (Intel 82576, on QEMU 10), bound to the
real uio_pci_generic, pinged by the host kernel through a tap. One VM per NIC kind (legacy,
modern, igb) runs every check in turn:

1. ping 100/100 (56-byte payloads), then payloads of 0 and 1472 bytes;
2. 1,000 UDP datagrams of varied sizes to port 7 come back byte-identical;
3. hybrid mode (the default): 10 s idle uses at most 2 % of a core (the README's goal for
   idle CPU; the loop sleeps on the interrupt after 300 empty polls), then the next ping is
   answered;
4. SIGTERM: exit 0, "device reset" printed, and the device status register reads 0;
5. interrupt mode: 5 s idle uses at most 2 % of a core, then the next ping is answered;
6. QMP set_link off/on reaches the driver as interrupts (virtio config change, igb LSC):
   link down, link up;
7. the driver's counters at exit (the device's own, for igb) against the host tap's.

Idle CPU is utime + stime of the server from /proc/PID/stat, in clock ticks (CLK_TCK), over
IDLE_WINDOWS back-to-back windows; the best window must meet the goal. Under TCG a busy host
inflates the guest's accounting (a vCPU thread descheduled on the host still has its guest
process charged the ticks): on the 2-core development host, a run at load average 7.6 read
3.2 % (hybrid) and 4.2 % (interrupt), where quieter runs read 1.0-1.6 % and 1.0-1.4 %. A loop
that really spins reads about 100 % in every window, so the best of a few still catches it.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import VM, check, qemu_version  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SWIFT_UIO_BIN", os.path.join(REPO, ".build", "release"))
ADDR = "0000:00:04.0"
# The README's goal for idle CPU ("idle CPU over 10 s ... <= 2 %"), asserted in hybrid mode
# (the default) and in interrupt mode: at most 2 % of one core.
IDLE_CPU_LIMIT = 0.02
IDLE_WINDOWS = 3

# Reads the virtio device status byte: legacy BAR0 (I/O) offset 18, modern common cfg
# device_status at 20 (QEMU puts common cfg at BAR4 offset 0). For an 82576: RCTL.EN and
# TCTL.EN (BAR0 0x100 and 0x400, bit 1), both clear after the reset.
STATUS_PY = r'''
import mmap, os, struct, sys
d = "/sys/bus/pci/devices/%s/" % sys.argv[1]
if open(d + "vendor").read().strip() == "0x8086":
    f = os.open(d + "resource0", os.O_RDWR | os.O_SYNC)
    m = mmap.mmap(f, 0x1000)
    rctl, tctl = struct.unpack_from("<I", m, 0x100)[0], struct.unpack_from("<I", m, 0x400)[0]
    print("device-status=%d" % ((rctl | tctl) & 2))
elif os.path.exists(d + "resource4"):
    f = os.open(d + "resource4", os.O_RDWR | os.O_SYNC)
    m = mmap.mmap(f, 4096)
    print("device-status=%d" % m[20])
else:
    f = os.open(d + "resource0", os.O_RDWR)
    print("device-status=%d" % os.pread(f, 1, 18)[0])
'''

GUEST = f"""
BIN={BIN}
start_server() {{  # $1: log name, rest: extra flags
  log=/results/$1.log; shift
  $BIN/echo-server {ADDR} --ip 192.0.2.2/24 --stats-interval 1 "$@" > $log 2>&1 &
  PID=$!
  i=0; while ! grep -q ready $log; do
    i=$((i+1)); [ $i -gt 300 ] && {{ echo "server did not start"; cat $log; exit 1; }}
    kill -0 $PID 2>/dev/null || {{ echo "server died"; cat $log; exit 1; }}
    sleep 0.1; done
}}
stop_server() {{
  kill -TERM $PID; wait $PID; echo "server-exit=$?"
  python3 - {ADDR} <<'PYEOF'
{STATUS_PY}
PYEOF
}}

cpu() {{ awk '{{print $14 + $15}}' /proc/$PID/stat; }}
start_server hybrid
mark READY-HYBRID
wait_host idle-hybrid 300
sleep 1
for w in $(seq {IDLE_WINDOWS}); do
  c0=$(cpu); sleep 10; c1=$(cpu)
  echo "hybrid-idle-cpu-ticks=$((c1 - c0)) hz=$(getconf CLK_TCK) seconds=10"
done
mark IDLE-HYBRID-DONE
wait_host stop-hybrid 300
stop_server
cat /results/hybrid.log

start_server interrupt --mode interrupt
sleep 1
for w in $(seq {IDLE_WINDOWS}); do
  c0=$(cpu); sleep 5; c1=$(cpu)
  echo "interrupt-idle-cpu-ticks=$((c1 - c0)) hz=$(getconf CLK_TCK) seconds=5"
done
mark IDLE-DONE
wait_host stop-interrupt 300
stop_server
cat /results/interrupt.log
"""

UDP_CLIENT = r'''
import os, random, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2.0)
rng = random.Random(7)
ok = bad = lost = late = 0
sent = set()
for i in range(1000):
    size = [0, 1, 18, 64, 512, 1000, 1472][i % 7] if i < 70 else rng.randrange(0, 1473)
    payload = bytes(rng.randrange(256) for _ in range(size))
    s.sendto(payload, (sys.argv[1], 7))
    while True:
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            lost += 1
            break
        if data == payload and peer[1] == 7:
            ok += 1
            break
        # A reply to an earlier datagram that came after its timeout (already counted as
        # lost): say so, and keep waiting for this one's, instead of misreading every later
        # reply as wrong.
        if data in sent and data != payload and peer[1] == 7:
            late += 1
            continue
        bad += 1
        break
    sent.add(payload)
print(f"udp ok={ok} bad={bad} lost={lost} late={late}")
'''


def ping(vm, count, size=56, interval="0.01"):
    p = vm.netns_exec(["ping", "-c", str(count), "-i", interval, "-s", str(size), "-W", "5", vm.guest_ip(0)],
                      timeout=120)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
    check(m is not None, f"ping output: {p.stdout} {p.stderr}")
    return int(m.group(2))


def run_echo_checks(kind):
    try:
        _run_echo_checks(kind)
    except AssertionError:
        # Show what the server saw: its counters tell a lost frame from a late one.
        for name in ("hybrid.log", "interrupt.log"):
            path = os.path.join(LAST_RESULTS[0], name) if LAST_RESULTS else None
            if path and os.path.exists(path):
                print(f"  [{kind}] {name}:\n" + open(path).read())
        raise


LAST_RESULTS = []


def _run_echo_checks(kind):
    with VM(nics=[kind], uio=True, guest_script=GUEST, timeout=420) as vm:
        LAST_RESULTS[:] = [vm.results]
        vm.wait_for_line(r"^READY-HYBRID", timeout=120)
        tap0 = vm.tap_stats(0)
        got = ping(vm, 100)
        print(f"  [{kind}] ping 100 x 56 bytes: {got} replies")
        check(got == 100, f"{kind}: ping 100/100, got {got}")
        for size in (0, 1472):
            got = ping(vm, 5, size=size, interval="0.05")
            print(f"  [{kind}] ping 5 x {size} bytes: {got} replies")
            check(got == 5, f"{kind}: ping -s {size}: {got}/5")
        p = vm.netns_exec(["python3", "-c", UDP_CLIENT, vm.guest_ip(0)], timeout=180)
        print(f"  [{kind}] {p.stdout.strip()} {p.stderr.strip()}")
        check("udp ok=1000 bad=0 lost=0" in p.stdout, f"{kind}: UDP echo: {p.stdout} {p.stderr}")
        vm.write_file("idle-hybrid")
        loads = [os.getloadavg()[0]]
        vm.wait_for_line(r"^IDLE-HYBRID-DONE", timeout=120)
        got = ping(vm, 1, interval="1")
        check(got == 1, f"{kind}: ping after 10 s idle in hybrid mode: {got}/1")
        tap1 = vm.tap_stats(0)
        vm.write_file("stop-hybrid")

        vm.wait_for_line(r"^IDLE-DONE", timeout=120)
        loads.append(os.getloadavg()[0])
        got = ping(vm, 1, interval="1")
        check(got == 1, f"{kind}: ping after 5 s idle in interrupt mode: {got}/1")
        vm.set_link(0, False)
        vm.wait_for_line(r"link down", source="interrupt.log", timeout=20)
        vm.set_link(0, True)
        vm.wait_for_line(r"link up", source="interrupt.log", timeout=20)
        print(f"  [{kind}] set_link off/on seen by the driver as link down / link up")
        vm.write_file("stop-interrupt")
        rc = vm.wait(timeout=60)
    out = vm.stdout
    print("\n".join("  [%s] %s" % (kind, l) for l in out.splitlines() if l.startswith(("hybrid-idle", "interrupt-idle", "server-exit", "device-status", "echo-server: stopped"))))
    check(rc == 0, f"{kind}: guest exit {rc}: {out} {vm.stderr}")
    check(out.count("server-exit=0") == 2, f"{kind}: echo-server must exit 0 on SIGTERM: {out}")
    check(out.count("device-status=0") == 2, f"{kind}: device must be reset after SIGTERM: {out}")
    check(out.count("stopped, device reset") == 2, f"{kind}: final stats line missing: {out}")
    print(f"  [{kind}] host load average (1 min) around the idle windows: {' / '.join(f'{l:.1f}' for l in loads)}")
    for mode in ("hybrid", "interrupt"):
        windows = [tuple(map(int, m)) for m in re.findall(rf"^{mode}-idle-cpu-ticks=(\d+) hz=(\d+) seconds=(\d+)$", out, re.M)]
        check(len(windows) == IDLE_WINDOWS, f"{kind}: {len(windows)} {mode} idle measurements, expected {IDLE_WINDOWS}: {out}")
        shares = [ticks / (hz * seconds) for ticks, hz, seconds in windows]
        seconds = windows[0][2]
        print(f"  [{kind}] idle CPU, {mode} mode, {IDLE_WINDOWS} windows of {seconds} s: "
              + ", ".join(f"{t} ticks = {s * 100:.1f} %" for (t, _, _), s in zip(windows, shares)))
        check(min(shares) <= IDLE_CPU_LIMIT, f"{kind}: idle echo-server in {mode} mode used more than "
              f"{IDLE_CPU_LIMIT * 100:.0f} % (the README's goal) in every {seconds} s window: "
              f"{', '.join(f'{s * 100:.1f} %' for s in shares)}")
    check_counters(kind, out, tap0, tap1)


def check_counters(kind, out, tap0, tap1):
    """The hybrid run's final counters against what the host tap counted meanwhile (guest
    RX = tap TX). Packets must match exactly. Bytes: the driver counts frames without the
    FCS; QEMU pads frames shorter than 60 bytes before the guest sees them, so the guest's
    RX bytes may exceed the tap's by up to 18 per frame (ARP and `ping -s 0` are 42 bytes)."""
    m = re.search(r"stopped, device reset\. rx=(\d+) tx=(\d+) rx-bytes=(\d+) tx-bytes=(\d+)", out)
    check(m is not None, f"{kind}: no final counters: {out}")
    rx, tx, rx_bytes, tx_bytes = map(int, m.groups())
    host_tx = tap1["tx_packets"] - tap0["tx_packets"]
    host_rx = tap1["rx_packets"] - tap0["rx_packets"]
    host_tx_bytes = tap1["tx_bytes"] - tap0["tx_bytes"]
    host_rx_bytes = tap1["rx_bytes"] - tap0["rx_bytes"]
    print(f"  [{kind}] device rx={rx} ({rx_bytes} B) tx={tx} ({tx_bytes} B); "
          f"tap sent {host_tx} ({host_tx_bytes} B), took {host_rx} ({host_rx_bytes} B)")
    check(rx == host_tx, f"{kind}: device counted {rx} frames received, the tap sent {host_tx}")
    check(tx == host_rx, f"{kind}: device counted {tx} frames sent, the tap took {host_rx}")
    check(host_tx_bytes <= rx_bytes <= host_tx_bytes + 18 * rx,
          f"{kind}: device RX bytes {rx_bytes} against the tap's {host_tx_bytes}")
    check(host_rx_bytes <= tx_bytes <= host_rx_bytes + 18 * tx,
          f"{kind}: device TX bytes {tx_bytes} against the tap's {host_rx_bytes}")


def test_echo_legacy():
    run_echo_checks("legacy")


def test_echo_modern():
    run_echo_checks("modern")


def test_echo_igb():
    print(f"  [igb] {qemu_version(['igb'])}")
    run_echo_checks("igb")
