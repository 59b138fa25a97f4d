// The host-side frame source for the forwarding and receive benchmarks: 60-byte UDP frames
// into a tap through an AF_PACKET socket, 64 per sendmmsg call (a Python raw-socket loop tops
// out near 80 k frames/s, far below what the guest takes). The tap is in the benchmark's own
// network namespace; the frames carry TEST-NET addresses and go nowhere else.
// Usage: frame_source IFACE DST_MAC SRC_MAC RATE SECONDS [MAX_FRAMES]
//   RATE 0: as fast as the socket takes them; otherwise frames/s, paced per call.
//   Bounded: SECONDS <= 60 and MAX_FRAMES <= 100,000,000 (default: no count bound below that).
// Prints: sent N frames in S s (R pps), A accepted by the interface, D dropped by it
// N counts every frame handed to the interface, dropped or not: that is the offered load.
// With PACKET_QDISC_BYPASS a frame goes straight to the tap driver; when the tap's queue is
// full (QEMU did not read in time: the guest's ring was full) the driver drops it (the tap's
// tx_dropped), the send fails with ENOBUFS and sendmmsg stops at that frame. So a call that
// returns n < want, or fails with ENOBUFS, had one more frame offered and dropped.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64
#define FRAME 60

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int parse_mac(const char *text, uint8_t mac[6]) {
    unsigned v[6];
    if (sscanf(text, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return -1;
    for (int i = 0; i < 6; i++) { if (v[i] > 255) return -1; mac[i] = (uint8_t)v[i]; }
    return 0;
}

// Ethernet + IPv4 (192.0.2.1 -> 192.0.2.2, checksum valid) + UDP 1024 -> 9 (discard), no UDP
// checksum, a sequence number at byte 42: the same layout as pktgen's frames.
static void build_frame(uint8_t *f, const uint8_t dst[6], const uint8_t src[6]) {
    memset(f, 0, FRAME);
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x08; f[13] = 0x00;
    uint8_t *ip = f + 14;
    ip[0] = 0x45; ip[2] = 0; ip[3] = FRAME - 14; ip[6] = 0x40; ip[8] = 64; ip[9] = 17;
    ip[12] = 192; ip[13] = 0; ip[14] = 2; ip[15] = 1;
    ip[16] = 192; ip[17] = 0; ip[18] = 2; ip[19] = 2;
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) sum += (uint32_t)ip[i] << 8 | ip[i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = (uint8_t)(~sum >> 8); ip[11] = (uint8_t)~sum;
    uint8_t *udp = ip + 20;
    udp[0] = 1024 >> 8; udp[1] = 1024 & 0xff; udp[2] = 0; udp[3] = 9;
    udp[4] = 0; udp[5] = FRAME - 34;
}

int main(int argc, char **argv) {
    if (argc < 6 || argc > 7) {
        fprintf(stderr, "usage: frame_source IFACE DST_MAC SRC_MAC RATE SECONDS [MAX_FRAMES]\n");
        return 64;
    }
    uint8_t dst[6], src[6];
    long rate = atol(argv[4]);
    double seconds = atof(argv[5]);
    long max_frames = argc == 7 ? atol(argv[6]) : 100000000;
    unsigned ifindex = if_nametoindex(argv[1]);
    if (ifindex == 0) { fprintf(stderr, "frame_source: no interface '%s' here (run it in the benchmark's netns)\n", argv[1]); return 64; }
    if (parse_mac(argv[2], dst) || parse_mac(argv[3], src)) { fprintf(stderr, "frame_source: DST_MAC and SRC_MAC must look like 02:00:00:00:00:01\n"); return 64; }
    if (rate < 0 || rate > 20000000 || seconds <= 0 || seconds > 60 || max_frames < 1 || max_frames > 100000000) {
        fprintf(stderr, "frame_source: need 0 <= RATE <= 20000000, 0 < SECONDS <= 60, 1 <= MAX_FRAMES <= 100000000\n");
        return 64;
    }
    int fd = socket(AF_PACKET, SOCK_RAW, 0);   // protocol 0: send only, receive nothing
    if (fd < 0) { perror("frame_source: socket(AF_PACKET) (needs root or CAP_NET_RAW)"); return 1; }
    int one = 1;
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);   // straight to the tap
    struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = (int)ifindex, .sll_halen = 6};
    memcpy(to.sll_addr, dst, 6);

    static uint8_t frames[BATCH][FRAME];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    for (int i = 0; i < BATCH; i++) {
        build_frame(frames[i], dst, src);
        iov[i] = (struct iovec){frames[i], FRAME};
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov[i], .msg_iovlen = 1}};
    }
    long sent = 0, dropped = 0;
    double start = now(), elapsed = 0;
    while ((elapsed = now() - start) < seconds && sent < max_frames) {
        long want = BATCH;
        if (rate > 0) {
            long due = (long)(elapsed * rate) - sent;   // never ahead of RATE x elapsed
            if (due <= 0) {
                struct timespec pause = {0, 10000};
                nanosleep(&pause, NULL);
                continue;
            }
            if (due < want) want = due;
        }
        if (max_frames - sent < want) want = max_frames - sent;
        for (int i = 0; i < want; i++) {
            uint32_t seq = htonl((uint32_t)(sent + i));
            memcpy(frames[i] + 42, &seq, 4);
        }
        errno = 0;
        int n = sendmmsg(fd, msgs, (unsigned)want, 0);
        if (n < 0) n = 0;
        sent += n;
        if (n < want) {
            if (errno != ENOBUFS && errno != 0) { perror("frame_source: sendmmsg"); return 1; }
            sent++;       // the frame the interface dropped
            dropped++;
        }
    }
    elapsed = now() - start;
    printf("sent %ld frames in %.3f s (%.0f pps), %ld accepted by the interface, %ld dropped by it\n",
           sent, elapsed, sent / elapsed, sent - dropped, dropped);
    return 0;
}
