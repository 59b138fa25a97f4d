// The host-side load for the echo benchmarks: UDP datagrams to DST:7 at a fixed rate for a
// bounded time, sent in batches of 32 with sendmmsg, with the replies counted by a second
// thread with recvmmsg. One generator for every server under test (swift-uio or the guest
// kernel), and cheap enough per datagram that the guest, not the generator, is the limit.
// Usage: udp_load DST_IP RATE SECONDS   (RATE <= 2,000,000, SECONDS <= 60)
// Prints: sent N got M in S
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 32

static int fd;
static atomic_long received;
static atomic_int done;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
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
        if (n > 0) atomic_fetch_add(&received, n);
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
    pthread_t receiver;
    pthread_create(&receiver, NULL, receive, NULL);

    static char payload[BATCH][18];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){payload[i], sizeof payload[i]};
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
    }
    long sent = 0;
    double start = now(), elapsed = 0;
    while ((elapsed = now() - start) < seconds) {
        long due = (long)(elapsed * rate) - sent;   // pace: never ahead of RATE x elapsed
        if (due <= 0) {
            struct timespec pause = {0, 20000};
            nanosleep(&pause, NULL);
            continue;
        }
        int want = due < BATCH ? (int)due : BATCH;
        for (int i = 0; i < want; i++) memcpy(payload[i], &(long){sent + i}, sizeof(long));
        int n = sendmmsg(fd, msgs, want, 0);
        sent += n > 0 ? n : want;   // a refused batch (no ARP entry yet, ENOBUFS) counts as lost
    }
    struct timespec drain = {0, 300000000};   // replies still in flight
    nanosleep(&drain, NULL);
    atomic_store(&done, 1);
    pthread_join(receiver, NULL);
    printf("sent %ld got %ld in %.2f\n", sent, atomic_load(&received), elapsed);
    return 0;
}
