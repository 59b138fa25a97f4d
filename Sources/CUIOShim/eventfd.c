#include "CUIOShim.h"
#include <sys/eventfd.h>

int uio_eventfd_nonblocking(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }
