"""Run inside the VM's namespace (python3 hostile_frames.py TAP GUEST_MAC): sends classes of
hostile frames to the echo server through an AF_PACKET socket on the tap, captures what the
guest sends back, then sends legit ARP/ICMP/UDP requests and checks that the replies match.
Prints one JSON object: frames sent per class, unexpected frames, legit replies.
Bounded: about 200 frames per second, a few seconds in all."""

import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fuzz"))
import make_corpus as mc  # noqa: E402  (frame builders)

TAP, GUEST_MAC = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
HOST_MAC = bytes.fromhex(open(f"/sys/class/net/{TAP}/address").read().strip().replace(":", ""))
HOST_IP, GUEST_IP = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
s.bind((TAP, 0))
s.setblocking(False)
seen = []          # frames the guest sent


def drain(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            data, addr = s.recvfrom(65536)
        except BlockingIOError:
            time.sleep(0.002)
            continue
        if addr[2] != PACKET_OUTGOING:
            seen.append(data)


def send(frame, pause=0.005):
    s.send(frame)
    drain(pause)   # also keeps the capture buffer short


def eth(dst, payload, ethertype=0x0800):
    return dst + HOST_MAC + struct.pack("!H", ethertype) + payload


def ip(proto, payload, **kw):
    return mc.ipv4(proto, payload, src=HOST_IP, dst=GUEST_IP, **kw)


def udp(data, **kw):
    return mc.udp(data, src=HOST_IP, dst=GUEST_IP, **kw)


ping = lambda data=b"x" * 16: mc.icmp_echo(data)  # noqa: E731
good_ip = ip(1, ping())


def with_ip_checksum_recomputed(header_and_payload, ihl=20):
    h = bytearray(header_and_payload)
    h[10:12] = b"\0\0"
    h[10:12] = struct.pack("!H", mc.csum(bytes(h[:ihl])))
    return bytes(h)


# class name (the server's drop reason, or "qemu/none" when QEMU may filter it) -> frames
hostile = {}
hostile["runt"] = [eth(GUEST_MAC, good_ip)[:n] for n in (14, 20, 33)]
hostile["arp-malformed"] = [b"\xff" * 6 + HOST_MAC + b"\x08\x06" + b"\0" * 6]      # 20 bytes
hostile["oversize"] = [eth(GUEST_MAC, ip(1, ping(b"o" * n))) for n in (2100, 4000, 8900)]
bad_ihl = bytearray(good_ip); bad_ihl[0] = 0x43
bad_ver = bytearray(good_ip); bad_ver[0] = 0x65
hostile["ip-bad-header"] = [eth(GUEST_MAC, with_ip_checksum_recomputed(bytes(bad_ihl), 12)),
                            eth(GUEST_MAC, with_ip_checksum_recomputed(bytes(bad_ver)))]
record_route = b"\x07\x27\x04" + b"\0" * 36 + b"\x01"    # what `ping -R` sends: 9 slots, NOP pad
timestamp = b"\x44\x0c\x05\x00" + b"\0" * 8                # `ping -T tsonly`, 2 slots
hostile["ip-options"] = [eth(GUEST_MAC, ip(1, ping(), ihl=6, options=b"\x01\x01\x01\x00")),
                         eth(GUEST_MAC, ip(1, ping(), ihl=15, options=record_route)),
                         eth(GUEST_MAC, ip(1, ping(), ihl=8, options=timestamp))]
hostile["ip-bad-length"] = [eth(GUEST_MAC, ip(1, ping(), total=1000)), eth(GUEST_MAC, ip(1, ping(), total=19))]
bad_sum = bytearray(good_ip); bad_sum[10] ^= 0x5a
hostile["ip-bad-checksum"] = [eth(GUEST_MAC, bytes(bad_sum))]
bad_icmp = bytearray(ping()); bad_icmp[2] ^= 1
hostile["icmp-bad-checksum"] = [eth(GUEST_MAC, ip(1, bytes(bad_icmp)))]
bad_udp = bytearray(udp(b"payload")); bad_udp[6] ^= 1
hostile["udp-bad-checksum"] = [eth(GUEST_MAC, ip(17, bytes(bad_udp)))]
hostile["udp-length-mismatch"] = [eth(GUEST_MAC, ip(17, udp(b"payload", length=40, checksum=False))),
                                  eth(GUEST_MAC, ip(17, udp(b"payload", length=4, checksum=False)))]
hostile["ip-fragment"] = [eth(GUEST_MAC, ip(17, udp(b"frag"), frag=0x2000)),        # MF
                          eth(GUEST_MAC, ip(17, udp(b"frag"), frag=0x0010)),        # offset 128
                          eth(GUEST_MAC, ip(1, ping(), frag=0x2000))]
hostile["arp-other-target"] = [mc.arp_request(target_ip=bytes([192, 0, 2, n]), src=HOST_MAC, sender_ip=HOST_IP)
                               for n in (1, 3, 99, 254)]
# Spoofed senders (RFC 1122 §3.2.1.3): replies would go to a group, to nobody, or loop.
BAD_SOURCES = [bytes(a) for a in ([0, 0, 0, 0], [0, 1, 2, 3], [127, 0, 0, 1], [224, 0, 0, 5], [240, 0, 0, 1],
                                  [255, 255, 255, 255], [192, 0, 2, 2], [192, 0, 2, 255], [192, 0, 2, 0])]
hostile["ip-bad-source"] = ([eth(GUEST_MAC, mc.ipv4(1, ping(), src=a, dst=GUEST_IP)) for a in BAD_SOURCES]
                            + [eth(GUEST_MAC, mc.ipv4(17, mc.udp(b"spoof", src=a, dst=GUEST_IP), src=a, dst=GUEST_IP))
                               for a in BAD_SOURCES])
GROUP_MACS = [b"\xff" * 6, bytes.fromhex("01005e000001"), bytes.fromhex("333300000001"), bytes(6)]
hostile["src-mac-not-unicast"] = [
    frame for m in GROUP_MACS for frame in (
        GUEST_MAC + m + b"\x08\x00" + good_ip,
        GUEST_MAC + m + b"\x08\x00" + ip(17, udp(b"group-src")),
        mc.arp_request(src=m, sender_ip=HOST_IP))]
hostile["arp-bad-sender"] = (
    [mc.arp_request(src=HOST_MAC, sender_mac=bytes.fromhex("020000000077"), sender_ip=HOST_IP),   # mismatch
     mc.arp_request(src=HOST_MAC, sender_mac=bytes.fromhex("01005e000001"), sender_ip=HOST_IP),   # multicast
     mc.arp_request(src=HOST_MAC, sender_mac=b"\xff" * 6, sender_ip=HOST_IP)]                     # broadcast
    + [mc.arp_request(src=HOST_MAC, sender_ip=a) for a in BAD_SOURCES])
# Echo loops and amplification: no echo to a source port below 1024.
hostile["udp-src-port-below-1024"] = [eth(GUEST_MAC, ip(17, udp(b"loop", sport=p))) for p in (0, 7, 13, 19, 37, 53, 123, 1023)]
# Broadcast and multicast floods: IPv4 is answered only when sent to our MAC.
bcast = eth(b"\xff" * 6, mc.ipv4(17, udp(b"bcast"), src=HOST_IP, dst=bytes([192, 0, 2, 255])))
mcast = eth(bytes.fromhex("01005e000001"), mc.ipv4(17, udp(b"mcast"), src=HOST_IP, dst=bytes([224, 0, 0, 1])))
hostile["broadcast-flood"] = [bcast] * 200
hostile["multicast-flood"] = [mcast] * 200
hostile["not-for-us"] = [eth(bytes.fromhex("020000000099"), good_ip)] * 5
vlan = GUEST_MAC + HOST_MAC + b"\x81\x00\x00\x05\x08\x00" + good_ip
hostile["vlan-tagged"] = [vlan, GUEST_MAC + HOST_MAC + b"\x81\x00\x00\x05\x08\x06" + mc.arp_request()[14:]]

sent = {}
for name, frames in hostile.items():
    for f in frames:
        send(f)
    sent[name] = len(frames)
drain(1.5)
unexpected = [f.hex() for f in seen]

# Legit requests after the storm: each must be answered once, correctly.
seen.clear()
# Sockets on the legit requests' source ports, so that the host kernel takes the echoes
# quietly instead of answering them with ICMP port unreachable.
sinks = []
for i in range(5):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("192.0.2.1", 41000 + i))
    sinks.append(u)
send(mc.arp_request(src=HOST_MAC, sender_ip=HOST_IP))
for i in range(5):
    send(eth(GUEST_MAC, ip(1, mc.icmp_echo(b"legit-%d" % i, seq=i))))
    send(eth(GUEST_MAC, ip(17, udp(b"legit-udp-%d" % i, sport=41000 + i))))
drain(2.0)
legit = {"arp": 0, "icmp": 0, "udp": 0, "other": []}
for f in seen:
    if f[:6] != HOST_MAC or f[6:12] != GUEST_MAC:
        legit["other"].append(f.hex())
    elif f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x02" and f[28:32] == GUEST_IP:
        legit["arp"] += 1
    elif f[12:14] == b"\x08\x00" and f[23] == 1 and f[34] == 0 and f[42:47] == b"legit":
        legit["icmp"] += 1
    elif f[12:14] == b"\x08\x00" and f[23] == 17 and f[34:36] == b"\x00\x07" and f[42:51] == b"legit-udp":
        legit["udp"] += 1
    else:
        legit["other"].append(f.hex())
print(json.dumps({"sent": sent, "unexpected": unexpected, "legit": legit}))
