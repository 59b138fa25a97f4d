"""swift-uio's benchmarks, one command: `scripts/bench`. Prints a table.

1. Driver instructions per forwarded packet (callgrind on Benchmarks/forward-bench: two
   simulated virtio NICs, batch 32; the models' DMA work runs outside the counted function,
   and the simulated register accesses inside it are subtracted).
2. VM throughput (QEMU TCG, 1 vCPU, 60-byte frames): pktgen on legacy and modern NICs,
   counted on the host tap; the forwarder between two legacy NICs.
3. UDP echo rate: swift-uio's echo-server vs the guest kernel's virtio_net with a
   recvmmsg/sendmmsg echo server, under the same rate-limited host load.
4. Hybrid scheduling: idle CPU over 10 s, echo rate at saturation and ping RTT from idle,
   hybrid vs pure poll.
Every load is bounded in rate and time, and stays in the harness's network namespace.
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
ROWS = []


def row(name, value, note=""):
    ROWS.append((name, value, note))
    print(f"  {name}: {value} {note}", flush=True)


# ---------------------------------------------------------------- 1. callgrind

def instructions_per_packet(batch=32, rounds=2000):
    exe = "/tmp/swift-uio-forward-bench"
    subprocess.run(["cp", os.path.join(BIN, "forward-bench"), exe], check=True)
    # valgrind 3.19 cannot read the DWARF 5 that Swift 6 emits: keep symbols, drop debug info.
    subprocess.run(["strip", "--strip-debug", exe], check=True)
    out = "/tmp/swift-uio-callgrind.out"
    subprocess.run(["valgrind", "--tool=callgrind", "--toggle-collect=*forward_bench0A5Batch*",
                    f"--callgrind-out-file={out}", exe, str(batch), str(rounds)],
                   check=True, capture_output=True)
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                          check=True, capture_output=True, text=True).stdout
    packets = batch * rounds
    total = simulator = arc = 0
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*?:(\S+)", line)
        if not m:
            continue
        ir, fn = int(m.group(1).replace(",", "")), m.group(2)
        if "forward_bench0A5Batch" in fn:
            total = ir
        elif fn.startswith("$s12UIOSimulator") and ("writeRegister" in fn or "readRegister" in fn):
            simulator += ir
        elif fn in ("swift_retain", "swift_release"):
            arc += ir
    # Neither the driver nor the simulator's register handle (an unretained reference, like
    # DeviceRegion on hardware) retains anything, so any swift_retain/release here would be
    # the driver's: it stays in the count. With Swift 6.3.1 the rest splits, per packet,
    # into about 24 receive (used ring, length checks), 17 RX refill (mempool to descriptors),
    # 21 TX clean (used ring, mempool free), 22 TX post, and 8 for the touch loop and calls.
    driver = total - simulator
    row("driver instructions / forwarded packet", f"{driver / packets:.1f}",
        f"(callgrind, batch {batch}; {total / packets:.1f} with the simulated register accesses; ixy in C: 127)")
    row("swift_retain/release Ir / packet", f"{arc / packets:.2f}", "(goal: none)")


# ---------------------------------------------------------------- 2. throughput

def pktgen_rate(kind, seconds=5, dst_mac=None):
    """Frames/s leaving the guest, counted on the host tap. With dst_mac, frames go to a MAC no
    host claims (as ixy's pktgen sends to 10:10:10:10:10:10): the tap counts them and the host
    drops them at layer 2. Broadcast frames also cost the host an IP and UDP lookup each, in
    QEMU's I/O thread, which is what limits this benchmark (see pktgen's "ring was full" line)."""
    mac = f" --dst-mac {dst_mac}" if dst_mac else ""
    guest = f"{BIN}/pktgen 0000:00:04.0 --seconds {seconds}{mac} > /results/pktgen.log 2>&1"
    with VM(nics=[kind], uio=True, guest_script=guest, timeout=180) as vm:
        vm.wait_for_line(r"ready", source="pktgen.log", timeout=120)
        before = vm.tap_stats(0)["rx_packets"]
        vm.wait(timeout=60)
        arrived = vm.tap_stats(0)["rx_packets"] - before
        log = vm.read_file("pktgen.log")
    m = re.search(r"sent (\d+) packets in ([\d.]+) s \((\d+) pps\)", log)
    full = re.search(r"ring was full on (\d+) of (\d+)", log)
    sent, secs = int(m.group(1)), float(m.group(2))
    share = int(full.group(1)) / max(int(full.group(2)), 1) * 100
    row(f"pktgen {kind} (60 B, to {'unicast ' + dst_mac if dst_mac else 'broadcast'})", f"{arrived / secs / 1000:.0f} kpps",
        f"on the host tap ({sent / secs / 1000:.0f} kpps reported by pktgen; TX ring full on {share:.0f} % of calls)")


BLAST = r'''
import socket, sys, time
tap, count, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((tap, 0))
frame = bytes.fromhex("ffffffffffff" "020000000001" "88b5") + bytes(46)
start = time.time()
for i in range(count):
    s.send(frame)
    if i % 100 == 99:
        ahead = (i + 1) / rate - (time.time() - start)
        if ahead > 0: time.sleep(ahead)
print(f"{count} {time.time() - start:.3f}")
'''


def forwarder_rate(count=150_000, rate=150_000):
    guest = f"""{BIN}/forwarder 0000:00:04.0 0000:00:05.0 > /results/fwd.log 2>&1 &
PID=$!
wait_host stop 300
kill -TERM $PID; wait $PID"""
    with VM(nics=["legacy", "legacy"], uio=True, guest_script=guest, timeout=300) as vm:
        vm.wait_for_line(r"ready", source="fwd.log", timeout=120)
        before = vm.tap_stats(1)["rx_packets"]
        p = vm.netns_exec(["python3", "-c", BLAST, vm.tap(0), str(count), str(rate)], timeout=120)
        sent, secs = p.stdout.split()
        import time
        time.sleep(1)
        out = vm.tap_stats(1)["rx_packets"] - before
        vm.write_file("stop")
        vm.wait(timeout=60)
    row("forwarder legacy→legacy", f"{out / float(secs) / 1000:.0f} kpps",
        f"({out} of {sent} frames offered at up to {rate / 1000:.0f} kpps by a Python raw socket)")


# ---------------------------------------------------------------- 3. and 4. echo

LOAD_EXE = "/tmp/swift-uio-udp-load"


def build_load():
    """The host-side load generator (C, sendmmsg/recvmmsg): one for every server under test."""
    subprocess.run(["gcc", "-O2", "-pthread", "-o", LOAD_EXE, os.path.join(HERE, "udp-load", "udp_load.c")], check=True)


def echo_rate(vm, rate, seconds=3):
    """(offered, answered) datagrams per second at one offered rate, from the host netns."""
    p = vm.netns_exec([LOAD_EXE, vm.guest_ip(0), str(rate), str(seconds)], timeout=60)
    m = re.search(r"sent (\d+) got (\d+) in ([\d.]+)", p.stdout)
    if not m:
        raise RuntimeError(f"udp_load: {p.stdout} {p.stderr}")
    return int(m.group(1)) / float(m.group(3)), int(m.group(2)) / float(m.group(3))


def echo_server_run(mode, rates):
    guest = f"""{BIN}/echo-server 0000:00:04.0 --ip 192.0.2.2/24 --mode {mode} > /results/echo.log 2>&1 &
PID=$!
i=0; until grep -q ready /results/echo.log; do i=$((i+1)); [ $i -gt 300 ] && exit 1; sleep 0.1; done
sleep 1
c0=$(awk '{{print $14 + $15}}' /proc/$PID/stat); sleep 10; c1=$(awk '{{print $14 + $15}}' /proc/$PID/stat)
echo "idle-ticks=$((c1 - c0))" > /results/idle
wait_host stop 600
kill -TERM $PID; wait $PID"""
    with VM(nics=["legacy"], uio=True, guest_script=guest, timeout=600) as vm:
        idle = int(re.search(r"idle-ticks=(\d+)", vm.wait_for_file("idle", timeout=150)).group(1))
        rtt = ping_rtt(vm)
        best = max(echo_rate(vm, r)[1] for r in rates)
        vm.write_file("stop")
        vm.wait(timeout=60)
    return idle, rtt, best


def ping_rtt(vm):
    p = vm.netns_exec(["ping", "-c", "20", "-i", "0.5", vm.guest_ip(0)], timeout=60)
    return float(re.search(r"= [\d.]+/([\d.]+)/", p.stdout).group(1))


def kernel_echo(rates):
    exe = "/tmp/swift-uio-udp-echo"
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "kernel-echo", "udp_echo.c")], check=True)
    guest = f"""IF=$(ls /sys/bus/pci/devices/0000:00:04.0/virtio*/net/)
ip addr add 192.0.2.2/24 dev $IF; ip link set $IF up
{exe} 300 > /results/kecho.log 2>&1 &
PID=$!
wait_host stop 600
kill $PID"""
    with VM(nics=["legacy"], uio=False, guest_script=guest, timeout=600) as vm:
        vm.wait_for_line(r"ready", source="kecho.log", timeout=120)
        best = max(echo_rate(vm, r)[1] for r in rates)
        vm.write_file("stop")
        vm.wait(timeout=60)
    return best


def main():
    quick = "--quick" in sys.argv
    # Low rates too: the guest kernel answers best below its livelock point, and each server
    # is credited with its best rate.
    rates = [5_000, 20_000, 60_000] if quick else [5_000, 10_000, 20_000, 60_000, 120_000]
    build_load()
    print("== 1. driver cost per packet", flush=True)
    instructions_per_packet()
    print("== 2. VM throughput", flush=True)
    for kind in ("legacy", "modern"):
        pktgen_rate(kind, dst_mac="02:00:00:00:00:99")
        pktgen_rate(kind)
    forwarder_rate()
    print("== 3./4. echo and hybrid scheduling", flush=True)
    # Two rounds, alternating, each mode credited with its best: one TCG run to the next
    # varies by 10 to 20 % on a 2-core host, more than the difference being measured.
    runs = {"hybrid": [], "poll": []}
    for _ in range(1 if quick else 2):
        for mode in runs:
            runs[mode].append(echo_server_run(mode, rates))
    hybrid = runs["hybrid"][0][:2] + (max(r[2] for r in runs["hybrid"]),)
    poll = runs["poll"][0][:2] + (max(r[2] for r in runs["poll"]),)
    kernel = kernel_echo(rates)
    row("echo rate, swift-uio hybrid", f"{hybrid[2] / 1000:.1f} k/s", "(best reply rate over the offered loads)")
    row("echo rate, swift-uio poll", f"{poll[2] / 1000:.1f} k/s")
    row("echo rate, guest kernel virtio_net + recvmmsg/sendmmsg", f"{kernel / 1000:.1f} k/s")
    row("echo rate ratio swift-uio hybrid / kernel", f"{hybrid[2] / kernel:.2f}x")
    row("hybrid / poll throughput at saturation", f"{hybrid[2] / poll[2]:.2f}")
    # CPU ticks (100 per second) over 10 s: ticks / 10 is the percentage of one core.
    row("idle CPU over 10 s, hybrid", f"{hybrid[0] / 10:.1f} %", "(of one core)")
    row("idle CPU over 10 s, poll", f"{poll[0] / 10:.1f} %")
    row("ping RTT from idle, hybrid", f"{hybrid[1]:.2f} ms")
    row("ping RTT from idle, poll", f"{poll[1]:.2f} ms")
    print("\n| benchmark | result | note |\n| --- | --- | --- |")
    for name, value, note in ROWS:
        print(f"| {name} | {value} | {note} |")


if __name__ == "__main__":
    main()
