"""Frames longer than Ethernet allows, sent from the host to the forwarder and to the echo server.

The standard maximum is 1514 bytes without FCS (1518 with an 802.1Q tag). QEMU's virtio-net
hands the guest any frame that fits the posted RX buffer (swift-uio posts 2 KiB buffers, 1920
bytes of data) and silently drops longer ones (without VIRTIO_NET_F_MRG_RXBUF a frame must
fit one buffer chain). So frames of 1515 to 1920 bytes reach the driver. They must not be
forwarded or answered (an over-MTU frame is a giant on a real segment, and an echo reply to
it would be one too), and they must be counted: the driver drops them as `rx-oversize`, as
Linux's virtio_net does (rx_length_errors, GOOD_PACKET_LEN) and the 82599 does (ROC). Frames
QEMU drops never reach the guest, so nothing there can count them; the test checks that they
are not forwarded or answered either.

One VM, a legacy and a modern NIC: first the forwarder between them, both directions; then
the echo server on the legacy NIC. Both taps get MTU 9000, so the host can send the frames
and would see an oversize frame that came back.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import VM, check  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("SWIFT_UIO_BIN", os.path.join(REPO, ".build", "release"))

STANDARD_MAX = 1514          # without FCS, untagged
DRIVER_SEES_MAX = 1920       # 2048-byte mempool buffers minus 128 bytes of header and headroom
FWD_SIZES = [60, 1514, 1515, 1518, 1519, 1600, 1900, 2100, 4000]
ECHO_SIZES = [1514, 1515, 1518, 1519, 1600, 1900, 2100]
FWD_COPIES, ECHO_COPIES = 5, 3

GUEST = f"""
wait_ready() {{  # $1 log, $2 pid
  i=0; while ! grep -q ready $1; do
    i=$((i+1)); [ $i -gt 300 ] && {{ echo "did not start"; cat $1; exit 1; }}
    kill -0 $2 2>/dev/null || {{ echo "died"; cat $1; exit 1; }}
    sleep 0.1; done
}}
{BIN}/forwarder 0000:00:04.0 0000:00:05.0 > /results/fwd.log 2>&1 &
PID=$!
wait_ready /results/fwd.log $PID
mark FWD-READY
wait_host stop-fwd 200
kill -TERM $PID; wait $PID; echo "forwarder-exit=$?"
{BIN}/echo-server 0000:00:04.0 --ip 192.0.2.2/24 > /results/echo.log 2>&1 &
PID=$!
wait_ready /results/echo.log $PID
mark ECHO-READY
wait_host stop-echo 200
kill -TERM $PID; wait $PID; echo "echo-exit=$?"
"""

# Host side, in the namespace. "fwd OUT IN": numbered frames of each size (ethertype 0x88b5,
# broadcast) into tap OUT, and what comes out of tap IN, by size. "echo TAP GUEST_MAC": ICMP
# echo requests of each frame size to the guest, and the replies by request size.
SENDER = r'''
import collections, json, socket, struct, sys, time
sys.path.insert(0, sys.argv[1])
import make_corpus as mc
mode = sys.argv[2]
ETH_P_ALL, PACKET_OUTGOING = 0x0003, 4

def capture(sock, seconds, keep):
    got = collections.Counter()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            data, addr = sock.recvfrom(65536)
        except BlockingIOError:
            time.sleep(0.002)
            continue
        if addr[2] != PACKET_OUTGOING:
            k = keep(data)
            if k is not None:
                got[k] += 1
    return got

if mode == "fwd":
    out_if, in_if, copies, sizes = sys.argv[3], sys.argv[4], int(sys.argv[5]), [int(x) for x in sys.argv[6:]]
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); tx.bind((out_if, 0))
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL)); rx.bind((in_if, 0))
    rx.setblocking(False)
    src = bytes.fromhex("020000000001")
    # Bytes 14..17 carry the size the frame was sent with; the forwarder touches byte 1 only.
    keep = lambda d: struct.unpack("!HH", d[14:18])[0] if d[12:14] == b"\x88\xb5" and len(d) >= 18 else None
    got = collections.Counter()
    for size in sizes:
        for c in range(copies):
            frame = b"\xff" * 6 + src + b"\x88\xb5" + struct.pack("!HH", size, c) + bytes(size - 18)
            tx.send(frame)
            got += capture(rx, 0.005, keep)
    got += capture(rx, 2.0, keep)
    print(json.dumps({"received": {str(k): v for k, v in got.items()}}))
else:
    tap, guest_mac = sys.argv[3], bytes.fromhex(sys.argv[4].replace(":", ""))
    copies, sizes = int(sys.argv[5]), [int(x) for x in sys.argv[6:]]
    host_mac = bytes.fromhex(open(f"/sys/class/net/{tap}/address").read().strip().replace(":", ""))
    host_ip, guest_ip = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL)); s.bind((tap, 0))
    s.setblocking(False)
    # An echo reply from the guest: its identifier is the request's frame size.
    def keep(d):
        if d[12:14] == b"\x08\x00" and d[23] == 1 and d[26:30] == guest_ip and d[34] == 0:
            return struct.unpack("!H", d[38:40])[0]
        return None
    got = collections.Counter()
    for size in sizes:
        for c in range(copies):
            data = bytes((i * 7) & 0xff for i in range(size - 14 - 20 - 8))
            frame = guest_mac + host_mac + b"\x08\x00" + mc.ipv4(1, mc.icmp_echo(data, ident=size, seq=c), src=host_ip, dst=guest_ip)
            assert len(frame) == size
            s.send(frame)
            got += capture(s, 0.01, keep)
    got += capture(s, 2.0, keep)
    print(json.dumps({"received": {str(k): v for k, v in got.items()}}))
'''


def send(vm, *args):
    p = vm.netns_exec(["python3", "-c", SENDER, os.path.join(REPO, "Tests", "Fuzz"), *map(str, args)], timeout=120)
    check(p.returncode == 0, f"sender failed: {p.stdout} {p.stderr}")
    return {int(k): v for k, v in json.loads(p.stdout.strip().splitlines()[-1])["received"].items()}


def counter(line, name):
    m = re.search(rf"(?<![-\w]){name}=(\d+)", line)
    check(m is not None, f"no {name}= in {line!r}")
    return int(m.group(1))


def test_oversize_frames_are_dropped_and_counted():
    with VM(nics=["legacy", "modern"], uio=True, guest_script=GUEST, timeout=360) as vm:
        for i in (0, 1):
            vm.netns_exec(["ip", "link", "set", vm.tap(i), "mtu", "9000"], check=True)
        vm.wait_for_line(r"^FWD-READY", timeout=120)
        forwarded = {}
        for a, b in ((0, 1), (1, 0)):
            forwarded[(a, b)] = send(vm, "fwd", vm.tap(a), vm.tap(b), FWD_COPIES, *FWD_SIZES)
            print(f"  forwarder tap{a} -> tap{b}: sent {FWD_COPIES} of each size {FWD_SIZES}; "
                  f"came out, by size: {dict(sorted(forwarded[(a, b)].items()))}")
        vm.write_file("stop-fwd")
        vm.wait_for_line(r"^ECHO-READY", timeout=60)
        replies = send(vm, "echo", vm.tap(0), vm.mac(0), ECHO_COPIES, *ECHO_SIZES)
        print(f"  echo-server: sent {ECHO_COPIES} ICMP echo requests of each frame size {ECHO_SIZES}; "
              f"replies, by request size: {dict(sorted(replies.items()))}")
        vm.write_file("stop-echo")
        rc = vm.wait(timeout=60)
        fwd_log, echo_log = vm.read_file("fwd.log") or "", vm.read_file("echo.log") or ""
    fwd_final = [l for l in fwd_log.splitlines() if "forwarder: stopped" in l]
    echo_final = [l for l in echo_log.splitlines() if "stopped, device reset" in l]
    print(f"  forwarder: {fwd_final[-1] if fwd_final else fwd_log}")
    print(f"  echo-server: {echo_final[-1] if echo_final else echo_log}")
    check(rc == 0 and "forwarder-exit=0" in vm.stdout and "echo-exit=0" in vm.stdout, f"guest: rc {rc} {vm.stdout} {vm.stderr}")

    reach_driver = [s for s in FWD_SIZES if STANDARD_MAX < s <= DRIVER_SEES_MAX]
    for (a, b), got in forwarded.items():
        # Standard frames pass, every one; nothing longer comes out, truncated or whole.
        for size in FWD_SIZES:
            want = FWD_COPIES if size <= STANDARD_MAX else 0
            check(got.get(size, 0) == want, f"forwarder tap{a} -> tap{b}: {got.get(size, 0)} frames of {size} bytes "
                  f"came out, expected {want}: {got}")
        check(set(got) <= set(FWD_SIZES), f"forwarder tap{a} -> tap{b}: frames with unknown sizes: {got}")
    check(fwd_final, f"no final forwarder line: {fwd_log}")
    # The forwarder's line names each port; each port received the oversize frames of one direction.
    ports = re.findall(r"(\S+) rx=\d+ tx=\d+ rx-oversize=(\d+)", fwd_final[-1])
    check(len(ports) == 2, f"forwarder final line must give rx-oversize for both ports: {fwd_final[-1]}")
    for port, n in ports:
        check(int(n) == FWD_COPIES * len(reach_driver),
              f"forwarder port {port}: rx-oversize={n}, expected {FWD_COPIES * len(reach_driver)} "
              f"({FWD_COPIES} each of {reach_driver})")

    for size in ECHO_SIZES:
        want = ECHO_COPIES if size <= STANDARD_MAX else 0
        check(replies.get(size, 0) == want, f"echo-server answered {replies.get(size, 0)} requests of {size}-byte frames, expected {want}")
    check(echo_final, f"no final echo-server line: {echo_log}")
    echo_reach = [s for s in ECHO_SIZES if STANDARD_MAX < s <= DRIVER_SEES_MAX]
    n = counter(echo_final[-1], "rx-oversize")
    check(n == ECHO_COPIES * len(echo_reach), f"echo-server rx-oversize={n}, expected {ECHO_COPIES * len(echo_reach)} "
          f"({ECHO_COPIES} each of {echo_reach})")
