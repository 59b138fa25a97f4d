#if canImport(Glibc)
import Glibc
#endif
import CUIOShim
import UIO

/// A device's interrupts through VFIO: the kernel signals an eventfd per vector.
///
/// - INTx (`.intx`): level-triggered and shared, so vfio-pci masks the line when it fires
///   and the driver unmasks it with VFIO_IRQ_SET_ACTION_UNMASK once it has acknowledged the
///   device's cause (the same protocol as uio_pci_generic's PCI_COMMAND bit).
/// - MSI-X (`.msix(vectors:)`): one eventfd per vector; messages are edges, nothing to unmask.
///   A thread that owns vector v can sleep on `descriptor(ofVector: v)` alone.
public struct VFIOInterruptLine: ~Copyable, InterruptLine {
    /// How the device signals: its legacy INTx line, or MSI-X messages on `vectors` vectors.
    public enum Mode: Sendable, Equatable {
        case intx
        case msix(vectors: Int)
    }

    /// What a device offers: its MSI-X table size (VFIO_DEVICE_GET_IRQ_INFO), 0 without MSI-X.
    static func msixCount(device: CInt) -> Int {
        var info = VFIOABI.IRQInfo()
        info.index = VFIOABI.msixIRQIndex
        guard ioctl(device, VFIOABI.deviceGetIRQInfo, &info) == 0 else { return 0 }
        return Int(info.count)
    }

    public let mode: Mode
    /// The device fd (owned by `VFIOPCIDevice`), for the SET_IRQS calls.
    let device: CInt
    let path: String
    /// One eventfd per vector, allocated with malloc so that this value holds no Array.
    let eventFDs: UnsafeMutableBufferPointer<CInt>
    private var total: UInt32 = 0
    /// Bit v set: vector v fired in the last `wait` (MSI-X), for drivers that route by vector.
    public private(set) var lastVectors: UInt64 = 0

    init(device: CInt, path: String, mode: Mode) throws {
        let count: Int
        switch mode {
        case .intx: count = 1
        case .msix(let vectors):
            guard (1...64).contains(vectors) else { throw UIOError.device("MSI-X vector count \(vectors) must be between 1 and 64") }
            count = vectors
        }
        let fds = UnsafeMutableBufferPointer<CInt>.allocate(capacity: count)
        for i in 0..<count {
            let fd = uio_eventfd_nonblocking()
            guard fd >= 0 else {
                let code = errno
                for j in 0..<i { close(fds[j]) }
                fds.deallocate()
                throw UIOError.systemCall("eventfd", path: "(interrupt vector \(i))", errno: code)
            }
            fds[i] = fd
        }
        let index = mode == .intx ? VFIOABI.intxIRQIndex : VFIOABI.msixIRQIndex
        do {
            try Self.setIRQs(device: device, index: index, flags: VFIOABI.irqSetDataEventFD | VFIOABI.irqSetActionTrigger,
                             start: 0, eventFDs: UnsafeBufferPointer(fds),
                             what: "routing \(mode == .intx ? "INTx" : "\(count) MSI-X vectors") of \(path) to eventfds")
        } catch {
            for fd in fds { close(fd) }
            fds.deallocate()
            throw error
        }
        self.mode = mode
        self.device = device
        self.path = path
        self.eventFDs = fds
    }

    deinit {
        for fd in eventFDs { close(fd) }
        eventFDs.deallocate()
    }

    /// Stops the kernel signalling: DATA_NONE with count 0 tears the trigger down (and turns
    /// MSI-X off in the device). The owner calls it while the device fd is still open.
    static func release(device: CInt, mode: Mode) {
        let index = mode == .intx ? VFIOABI.intxIRQIndex : VFIOABI.msixIRQIndex
        try? setIRQs(device: device, index: index, flags: VFIOABI.irqSetDataNone | VFIOABI.irqSetActionTrigger,
                     start: 0, count: 0, eventFDs: nil, what: "")
    }

    public var vectorCount: Int { eventFDs.count }

    /// The eventfd of `vector`, to poll with others (one thread per queue).
    public func descriptor(ofVector vector: Int) -> CInt { eventFDs[vector] }

    public mutating func wait(timeout: Duration?) throws -> InterruptEvent? {
        let n = eventFDs.count
        let ms = timeout.pollMilliseconds
        return try withUnsafeTemporaryAllocation(of: pollfd.self, capacity: n) { pfds in
            for i in 0..<n { pfds[i] = pollfd(fd: eventFDs[i], events: Int16(POLLIN), revents: 0) }
            let ready = poll(pfds.baseAddress, nfds_t(n), ms)
            if ready < 0 {
                if errno == EINTR { return nil }
                throw UIOError.fromErrno("poll", path: "eventfds of \(path)")
            }
            if ready == 0 { return nil }
            var signals: UInt64 = 0
            var vectors: UInt64 = 0
            for i in 0..<n where pfds[i].revents & Int16(POLLIN) != 0 {
                var value: UInt64 = 0
                // An eventfd read returns how many signals came since the last read, and resets it.
                if read(eventFDs[i], &value, 8) == 8 {
                    signals &+= value
                    vectors |= 1 << UInt64(i)
                }
            }
            if signals == 0 { return nil }
            lastVectors = vectors
            total &+= UInt32(truncatingIfNeeded: signals)
            return InterruptEvent(count: total, missed: UInt32(truncatingIfNeeded: signals - 1))
        }
    }

    /// INTx: VFIO_IRQ_SET_ACTION_UNMASK (vfio-pci masked the line when it fired).
    /// MSI-X: nothing, a message is not a level.
    public mutating func rearm() throws {
        guard mode == .intx else { return }
        try Self.setIRQs(device: device, index: VFIOABI.intxIRQIndex, flags: VFIOABI.irqSetDataNone | VFIOABI.irqSetActionUnmask,
                         start: 0, count: 1, eventFDs: nil, what: "unmasking INTx of \(path)")
    }

    /// VFIO_DEVICE_SET_IRQS: a `vfio_irq_set` header followed by `count` eventfds (or none).
    static func setIRQs(device: CInt, index: UInt32, flags: UInt32, start: UInt32, count: Int? = nil,
                        eventFDs: UnsafeBufferPointer<CInt>?, what: String) throws {
        let headerSize = MemoryLayout<VFIOABI.IRQSetHeader>.size
        let fdCount = eventFDs?.count ?? 0
        let size = headerSize + 4 * fdCount
        try withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { buffer in
            let header = VFIOABI.IRQSetHeader(argsz: UInt32(size), flags: flags, index: index, start: start,
                                              count: UInt32(count ?? fdCount))
            buffer.storeBytes(of: header, as: VFIOABI.IRQSetHeader.self)
            for i in 0..<fdCount { buffer.storeBytes(of: eventFDs![i], toByteOffset: headerSize + 4 * i, as: CInt.self) }
            guard ioctl(device, VFIOABI.deviceSetIRQs, buffer.baseAddress!) == 0 else {
                throw VFIOError.ioctl("VFIO_DEVICE_SET_IRQS (\(what))", errno: errno)
            }
        }
    }
}
