// The host-side load for the echo benchmarks: UDP datagrams to DST:7 at a fixed rate for a
// bounded time, sent in batches of up to 32 with sendmmsg, with the replies counted by a
// second thread with recvmmsg. One generator for every server under test (swift-uio or the
// guest kernel), and cheap enough per datagram that the guest, not the generator, is the limit.
//
// Each datagram carries its sequence number and its send time (CLOCK_MONOTONIC, ns); the
// receiver records each reply's round trip in a log-linear histogram (HDR-style: 64 linear
// sub-buckets per power of two, so a percentile is within 1.6 % of the true value). Replies to
// datagrams sent during the warm-up (a quarter of the run, at most 0.5 s) are left out of it.
//
// Rate: the replies that arrived between the end of the warm-up and the end of sending,
// divided by that same window. In steady state that is the server's throughput whatever its
// latency (a server that queues deeply is not penalised for replies still in flight at the
// end, nor credited with replies it drains from its queue after the load stops). The total,
// counted until the end of a 0.3 s drain, gives the loss.
// Usage: udp_load DST_IP RATE SECONDS   (RATE <= 2,000,000, SECONDS <= 60)
// Prints: sent N in S s, replies R in the W s window (X/s), T by the end of a 0.3 s drain, lost L; rtt_us p50 A p99 B p999 C max D (H samples)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 32
#define PAYLOAD 18
#define SUB 64                      // linear sub-buckets per power of two
#define BUCKETS (SUB * 40)
#define MAGIC 0x5355494fu           // "SUIO": ignore anything that is not our own echo

static int fd;
static atomic_long received, received_in_window;
static atomic_int sending_done, done;
static uint64_t hist[BUCKETS];      // microseconds, written by the receiver thread only
static uint64_t hist_samples, warmup_end_ns;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

// Values below 2*SUB are exact; above, the top 7 significant bits pick the bucket.
static int bucket(uint64_t v) {
    if (v < 2 * SUB) return (int)v;
    int shift = 63 - __builtin_clzll(v) - 6;            // v >> shift is in [64, 127]
    int i = SUB * (shift + 1) + (int)((v >> shift) - SUB);
    return i < BUCKETS ? i : BUCKETS - 1;
}

static uint64_t bucket_value(int i) {                   // the bucket's upper bound
    if (i < 2 * SUB) return (uint64_t)i;
    int shift = i / SUB - 1;
    return (((uint64_t)(i % SUB + SUB) + 1) << shift) - 1;
}

static uint64_t percentile(double p) {
    if (hist_samples == 0) return 0;
    uint64_t want = (uint64_t)(p / 100.0 * hist_samples + 0.5), seen = 0;
    if (want < 1) want = 1;
    for (int i = 0; i < BUCKETS; i++) {
        seen += hist[i];
        if (seen >= want) return bucket_value(i);
    }
    return bucket_value(BUCKETS - 1);
}

static void *receive(void *arg) {
    (void)arg;
    static char bufs[BATCH][2048];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){bufs[i], sizeof bufs[i]};
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
    }
    while (!atomic_load(&done)) {
        int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);   // SO_RCVTIMEO bounds each wait
        if (n <= 0) continue;
        uint64_t t = now_ns();
        int in_window = !atomic_load(&sending_done) && t >= warmup_end_ns;
        for (int i = 0; i < n; i++) {
            uint32_t magic;
            uint64_t sent_at;
            if (msgs[i].msg_len < PAYLOAD) continue;
            memcpy(&magic, bufs[i], 4);
            memcpy(&sent_at, bufs[i] + 8, 8);
            if (magic != MAGIC) continue;
            atomic_fetch_add(&received, 1);
            if (in_window) atomic_fetch_add(&received_in_window, 1);
            if (sent_at >= warmup_end_ns && t >= sent_at) {
                hist[bucket((t - sent_at) / 1000)]++;
                hist_samples++;
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: udp_load DST_IP RATE SECONDS\n"); return 64; }
    long rate = atol(argv[2]);
    double seconds = atof(argv[3]);
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(7)};
    if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 || rate < 1 || rate > 2000000 || seconds <= 0 || seconds > 60) {
        fprintf(stderr, "udp_load: need an IPv4 address, 1 <= RATE <= 2000000 and 0 < SECONDS <= 60\n");
        return 64;
    }
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    int big = 1 << 22;
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0) { perror("udp_load: connect"); return 1; }
    uint64_t start_ns = now_ns();
    // The first quarter of the run, at most 0.5 s, fills the pipeline: left out of the rate
    // and of the latency histogram.
    double warmup = seconds / 4 < 0.5 ? seconds / 4 : 0.5;
    warmup_end_ns = start_ns + (uint64_t)(warmup * 1e9);
    pthread_t receiver;
    pthread_create(&receiver, NULL, receive, NULL);

    static char payload[BATCH][PAYLOAD];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    for (int i = 0; i < BATCH; i++) {
        uint32_t magic = MAGIC;
        memcpy(payload[i], &magic, 4);
        iov[i] = (struct iovec){payload[i], sizeof payload[i]};
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
    }
    long sent = 0;
    double elapsed = 0;
    while ((elapsed = (now_ns() - start_ns) / 1e9) < seconds) {
        long due = (long)(elapsed * rate) - sent;   // pace: never ahead of RATE x elapsed
        if (due <= 0) {
            struct timespec pause = {0, 20000};
            nanosleep(&pause, NULL);
            continue;
        }
        int want = due < BATCH ? (int)due : BATCH;
        uint64_t t = now_ns();
        for (int i = 0; i < want; i++) {
            uint32_t seq = (uint32_t)(sent + i);
            memcpy(payload[i] + 4, &seq, 4);
            memcpy(payload[i] + 8, &t, 8);
        }
        int n = sendmmsg(fd, msgs, want, 0);
        sent += n > 0 ? n : want;   // a refused batch (no ARP entry yet, ENOBUFS) counts as lost
    }
    elapsed = (now_ns() - start_ns) / 1e9;
    atomic_store(&sending_done, 1);
    long in_window = atomic_load(&received_in_window);
    struct timespec drain = {0, 300000000};   // replies still in flight
    nanosleep(&drain, NULL);
    atomic_store(&done, 1);
    pthread_join(receiver, NULL);
    long total = atomic_load(&received);
    double window = elapsed - warmup;
    printf("sent %ld in %.3f s, replies %ld in the %.3f s window (%.0f/s), %ld by the end of a 0.3 s drain, lost %ld; "
           "rtt_us p50 %llu p99 %llu p999 %llu max %llu (%llu samples)\n",
           sent, elapsed, in_window, window, in_window / window, total, sent - total,
           (unsigned long long)percentile(50), (unsigned long long)percentile(99),
           (unsigned long long)percentile(99.9), (unsigned long long)percentile(100),
           (unsigned long long)hist_samples);
    return 0;
}
