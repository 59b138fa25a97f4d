// The kernel-path baseline for the echo benchmark: a UDP echo server on port 7 that moves
// datagrams in batches of 64 with recvmmsg/sendmmsg, so the socket API is not the limit.
// Built by Benchmarks/vm_bench.py and run in the guest on the kernel's virtio_net.
// Usage: udp_echo [SECONDS [BUSY_POLL_US [RCVBUF_BYTES]]]
// The kernel's best settings, for a fair baseline: BUSY_POLL_US > 0 sets SO_BUSY_POLL (the
// socket spins on the NIC's NAPI context for that long before sleeping, as
// net.core.busy_read does for every socket), and RCVBUF_BYTES sets SO_RCVBUFFORCE (root:
// above net.core.rmem_max), so a burst is queued rather than dropped at the socket.
#define _GNU_SOURCE
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <time.h>

#define BATCH 64

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
    signal(SIGTERM, on_term);   // SO_RCVTIMEO ends a wait within 200 ms; then the count is printed
    int seconds = argc > 1 ? atoi(argv[1]) : 30;
    int busy_poll = argc > 2 ? atoi(argv[2]) : 0;
    int rcvbuf = argc > 3 ? atoi(argv[3]) : 0;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (busy_poll > 0 && setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &busy_poll, sizeof busy_poll) != 0) {
        perror("udp_echo: SO_BUSY_POLL (needs CAP_NET_ADMIN)");
        return 1;
    }
    if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
        perror("udp_echo: SO_RCVBUFFORCE (needs CAP_NET_ADMIN)");
        return 1;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(7), .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("udp_echo"); return 1; }
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    static char bufs[BATCH][2048];
    struct iovec iov[BATCH];
    struct sockaddr_in peers[BATCH];
    struct mmsghdr msgs[BATCH];
    long echoed = 0;
    time_t end = time(NULL) + seconds;
    printf("udp_echo: busy_poll %d us, rcvbuf %d: ready\n", busy_poll, rcvbuf);
    fflush(stdout);
    while (!stop && time(NULL) < end) {
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){bufs[i], sizeof bufs[i]};
            msgs[i].msg_hdr = (struct msghdr){.msg_name = &peers[i], .msg_namelen = sizeof peers[i], .msg_iov = &iov[i], .msg_iovlen = 1};
        }
        int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0) continue;
        for (int i = 0; i < n; i++) iov[i].iov_len = msgs[i].msg_len;
        int sent = sendmmsg(fd, msgs, n, 0);
        if (sent > 0) echoed += sent;
    }
    printf("udp_echo: echoed %ld\n", echoed);
    return 0;
}
