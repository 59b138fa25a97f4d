#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include "CUIOShim.h"

int uio_pin_current_thread(int core) {
    if (core < 0 || core >= CPU_SETSIZE) { errno = EINVAL; return -1; }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(core, &set);
    return sched_setaffinity(0, sizeof set, &set);
}
