"""Host side of the forwarder VM tests: writes numbered frames into one tap, 500 per second,
and counts the distinct ones that come out of another tap with the forwarder's touch (byte 1
of the destination MAC, 0xff, incremented to 0x00), reading while it sends so that the host
socket's buffer is never what loses a frame. Runs in the VM's network namespace.

    forward_check.py OUT_TAP IN_TAP raw COUNT
        COUNT frames of ethertype 0x88b5 (local experimental), the number at byte 14.
    forward_check.py OUT_TAP IN_TAP flows FLOWS PER_FLOW
        IPv4/UDP frames 192.0.2.1 -> 198.51.100.2 (TEST-NET addresses no host owns), source
        port 40000 + flow, the number after a "SUIOMQ" marker at byte 42. Sent bound to
        ETH_P_IP, so that a multi_queue tap hashes each flow to one of its queues.

Prints: forwarded N of M, untouched U, slowest S ms (send to arrival, of the frames seen).
"""

import socket
import struct
import sys
import time

ETH_P_IP, ETH_P_EXPERIMENTAL = 0x0800, 0x88B5
HEADER = bytes.fromhex("ffffffffffff" "020000000001")


def raw_frame(seq):
    return HEADER + b"\x88\xb5" + seq.to_bytes(4, "big") + bytes(range(4, 46))


def raw_number(data):
    return int.from_bytes(data[14:18], "big") if data[12:14] == b"\x88\xb5" else None


def flow_frame(flow, seq):
    payload = b"SUIOMQ" + seq.to_bytes(4, "big") + bytes(8)
    udp = struct.pack("!HHHH", 40000 + flow, 9, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), seq & 0xFFFF, 0, 64, 17, 0,
                     socket.inet_aton("192.0.2.1"), socket.inet_aton("198.51.100.2"))
    return HEADER + b"\x08\x00" + ip + udp


def flow_number(data):
    return int.from_bytes(data[48:52], "big") if data[42:48] == b"SUIOMQ" else None


def main():
    out_if, in_if, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "raw":
        count = int(sys.argv[4])
        frames = [raw_frame(i) for i in range(count)]
        number, proto = raw_number, ETH_P_EXPERIMENTAL
    else:
        flows, per_flow = int(sys.argv[4]), int(sys.argv[5])
        frames = [flow_frame(i % flows, i) for i in range(flows * per_flow)]
        number, proto = flow_number, ETH_P_IP
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    tx.bind((out_if, proto))
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(proto))
    rx.bind((in_if, 0))
    rx.setblocking(False)
    seen, sent_at = set(), {}
    untouched, slowest = 0, 0.0

    def drain(seconds):
        nonlocal untouched, slowest
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = rx.recv(2048)
            except BlockingIOError:
                time.sleep(0.0005)
                continue
            n = number(data)
            if n is None or n not in sent_at:
                continue
            if data[1] != 0x00:
                untouched += 1
                continue
            if n not in seen:
                slowest = max(slowest, time.monotonic() - sent_at[n])
                seen.add(n)

    for i, frame in enumerate(frames):
        sent_at[i] = time.monotonic()
        tx.send(frame)
        drain(0.002)
    drain(2.0)
    print(f"forwarded {len(seen)} of {len(frames)}, untouched {untouched}, slowest {slowest * 1000:.0f} ms")


if __name__ == "__main__":
    main()
