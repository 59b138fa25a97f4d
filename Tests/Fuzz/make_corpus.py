#!/usr/bin/env python3
"""Writes the fuzzer's seed corpus, Tests/Fuzz/corpus/*.bin: valid frames for the echo
server at 52:54:00:12:34:56 / 192.0.2.2 (ARP, ICMP echo, UDP echo) and a few it must drop.
Deterministic: running it again rewrites the same bytes.  Also imported by the VM tests."""

import os
import struct

OUR_MAC = bytes.fromhex("525400123456")
PEER_MAC = bytes.fromhex("020000000001")
BROADCAST = b"\xff" * 6
OUR_IP = bytes([192, 0, 2, 2])
PEER_IP = bytes([192, 0, 2, 1])


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def eth(dst, src, ethertype, payload):
    return dst + src + struct.pack("!H", ethertype) + payload


def arp_request(target_ip=OUR_IP, dst=BROADCAST, src=PEER_MAC, sender_ip=PEER_IP, op=1, sender_mac=None):
    """`src` is the Ethernet source, and the sender hardware address unless `sender_mac` is given."""
    sender_mac = src if sender_mac is None else sender_mac
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sender_mac + sender_ip + b"\0" * 6 + target_ip
    return eth(dst, src, 0x0806, body)


def ipv4(proto, payload, src=PEER_IP, dst=OUR_IP, ttl=64, frag=0, ident=1, total=None, ihl=5, options=b""):
    total = 20 + len(options) + len(payload) if total is None else total
    header = struct.pack("!BBHHHBBH4s4s", 4 << 4 | ihl, 0, total, ident, frag, ttl, proto, 0, src, dst) + options
    header = header[:10] + struct.pack("!H", csum(header)) + header[12:]
    return header + payload


def icmp_echo(data, ident=0x1234, seq=1, icmp_type=8):
    msg = struct.pack("!BBHHH", icmp_type, 0, 0, ident, seq) + data
    return msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]


def udp(data, sport=40000, dport=7, src=PEER_IP, dst=OUR_IP, checksum=True, length=None):
    length = 8 + len(data) if length is None else length
    seg = struct.pack("!HHHH", sport, dport, length, 0) + data
    if checksum:
        c = csum(src + dst + struct.pack("!BBH", 0, 17, len(seg)) + seg) or 0xffff
        seg = seg[:6] + struct.pack("!H", c) + seg[8:]
    return seg


def ping_frame(data=b"", mac=PEER_MAC, src=PEER_IP, **kw):
    return eth(OUR_MAC, mac, 0x0800, ipv4(1, icmp_echo(data, **kw), src=src))


def udp_frame(data=b"", mac=PEER_MAC, src=PEER_IP, **kw):
    return eth(OUR_MAC, mac, 0x0800, ipv4(17, udp(data, src=src, **kw), src=src))


def seeds():
    pattern = bytes(range(256)) * 6
    yield "arp-request-broadcast", arp_request()
    yield "arp-request-unicast", arp_request(dst=OUR_MAC)
    yield "arp-request-other", arp_request(target_ip=bytes([192, 0, 2, 99]))
    yield "arp-reply", arp_request(op=2)
    for n in (0, 1, 56, 1472):
        yield f"icmp-echo-{n}", ping_frame(pattern[:n])
    for n in (0, 1, 18, 512, 1472):
        yield f"udp-echo-{n}", udp_frame(pattern[:n])
    yield "udp-echo-no-checksum", udp_frame(b"hello", checksum=False)
    yield "udp-other-port", udp_frame(b"x", dport=9)
    yield "ip-fragment", eth(OUR_MAC, PEER_MAC, 0x0800, ipv4(17, udp(b"frag"), frag=0x2000))
    yield "ip-options", eth(OUR_MAC, PEER_MAC, 0x0800, ipv4(1, icmp_echo(b"o"), ihl=6, options=b"\x01\x01\x01\x00"))
    yield "vlan-tagged", OUR_MAC + PEER_MAC + b"\x81\x00\x00\x05" + ping_frame(b"v")[12:]
    yield "runt", ping_frame()[:20]
    # Spoofed senders: each is one mutation away from a reply that the invariants forbid.
    yield "src-mac-broadcast-ping", ping_frame(b"s", mac=BROADCAST)
    yield "src-mac-multicast-udp", udp_frame(b"s", mac=bytes.fromhex("01005e000001"))
    yield "arp-sender-mismatch", arp_request(sender_mac=bytes.fromhex("020000000077"))
    yield "arp-sender-zero-ip", arp_request(sender_ip=bytes(4))
    yield "ip-source-directed-broadcast", ping_frame(b"b", src=bytes([192, 0, 2, 255]))
    yield "ip-source-loopback", udp_frame(b"l", src=bytes([127, 0, 0, 1]))
    yield "udp-source-port-chargen", udp_frame(b"c", sport=19)
    yield "udp-source-port-zero", udp_frame(b"z", sport=0)


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, frame in seeds():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(frame)
    print(f"wrote {len(list(seeds()))} seeds to {out}")


if __name__ == "__main__":
    main()
