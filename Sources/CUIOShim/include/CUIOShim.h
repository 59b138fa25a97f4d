// The parts of a user-space driver that Swift cannot express: volatile MMIO
// accesses (the compiler must neither merge, reorder nor drop them), CPU
// memory barriers, and x86 port I/O instructions. Everything else is Swift.
#ifndef CUIOSHIM_H
#define CUIOSHIM_H
#include <stdint.h>

static inline uint8_t  uio_mmio_read8(const void *addr)  { return *(const volatile uint8_t *)addr; }
static inline uint16_t uio_mmio_read16(const void *addr) { return *(const volatile uint16_t *)addr; }
static inline uint32_t uio_mmio_read32(const void *addr) { return *(const volatile uint32_t *)addr; }
static inline uint64_t uio_mmio_read64(const void *addr) { return *(const volatile uint64_t *)addr; }
static inline void uio_mmio_write8(void *addr, uint8_t v)   { *(volatile uint8_t *)addr = v; }
static inline void uio_mmio_write16(void *addr, uint16_t v) { *(volatile uint16_t *)addr = v; }
static inline void uio_mmio_write32(void *addr, uint32_t v) { *(volatile uint32_t *)addr = v; }
static inline void uio_mmio_write64(void *addr, uint64_t v) { *(volatile uint64_t *)addr = v; }

/// Full fence: orders all earlier loads and stores before all later ones.
static inline void uio_full_barrier(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
/// Store barrier: descriptor writes become visible to the device before the
/// doorbell (tail or notify) write. On x86 stores are not reordered with
/// other stores, so a compiler barrier suffices; elsewhere use a release fence.
static inline void uio_write_barrier(void) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_RELEASE);
#endif
}
/// Load barrier: a descriptor's flags are read before its other fields.
static inline void uio_read_barrier(void) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
#endif
}

/// x86 port I/O, inline so that a register access costs one instruction.
/// Needs ioperm()/iopl() (CAP_SYS_RAWIO) first: see uio_port_permit.
/// Elsewhere uio_port_io_supported() is 0 and callers use the sysfs fallback.
#if defined(__x86_64__) || defined(__i386__)
#include <sys/io.h>
static inline int uio_port_io_supported(void) { return 1; }
static inline uint8_t  uio_inb(uint16_t port) { return inb(port); }
static inline uint16_t uio_inw(uint16_t port) { return inw(port); }
static inline uint32_t uio_inl(uint16_t port) { return inl(port); }
static inline void uio_outb(uint16_t port, uint8_t v)  { outb(v, port); }
static inline void uio_outw(uint16_t port, uint16_t v) { outw(v, port); }
static inline void uio_outl(uint16_t port, uint32_t v) { outl(v, port); }
#else
static inline int uio_port_io_supported(void) { return 0; }
static inline uint8_t  uio_inb(uint16_t port) { (void)port; return 0xff; }
static inline uint16_t uio_inw(uint16_t port) { (void)port; return 0xffff; }
static inline uint32_t uio_inl(uint16_t port) { (void)port; return 0xffffffff; }
static inline void uio_outb(uint16_t port, uint8_t v)  { (void)port; (void)v; }
static inline void uio_outw(uint16_t port, uint16_t v) { (void)port; (void)v; }
static inline void uio_outl(uint16_t port, uint32_t v) { (void)port; (void)v; }
#endif
/// ioperm(from, count, 1), or iopl(3) above port 0xffff; 0, or -1 with errno.
int uio_port_permit(unsigned long from, unsigned long count);

/// eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK): VFIO delivers each interrupt vector to one.
/// <sys/eventfd.h> is not part of Swift's Glibc module, hence this wrapper.
int uio_eventfd_nonblocking(void);

#endif
