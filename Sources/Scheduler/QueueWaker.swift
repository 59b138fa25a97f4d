import CUIOShim
import Synchronization
import UIO
#if canImport(Glibc)
import Glibc
#endif

/// The fan-out of one interrupt line to the threads of several queues.
///
/// `uio_pci_generic` gives a device one INTx line, one `/dev/uioN`. If every sleeping queue
/// thread read it, all would wake on each interrupt (a thundering herd) and race to
/// acknowledge it. Instead one thread, the device's control thread, is the only reader of
/// `/dev/uioN`: it acknowledges the cause (virtio ISR, ixgbe EICR) and wakes, through an
/// eventfd per queue, only the sleeping queues whose ring has a packet.
///
/// Per queue, a slot on cache lines of its own holds a state word, the eventfd, and the
/// queue's `ReceiveProbe` (how the control thread sees, without touching the queue's handle,
/// whether a packet waits). The handshake, with no lost wake-up:
///
///   queue thread                                control thread
///   1. probe := queue.receiveProbe()           a. wait on /dev/uioN, read cause, re-arm INTx
///      (its address and expected value)
///   2. state := armed (seq_cst)                b. for each queue: if state == armed and
///   3. enable the queue's interrupt                probe pending and CAS(armed → running):
///   4. re-check the ring: work? CAS(armed →         write 1 to its eventfd
///      running) and go; if the CAS fails the
///      control thread has woken us: drain
///   5. poll(eventfd, timeout)
///   6. timeout: CAS(armed → running), or drain the eventfd if the control thread won
///
/// A packet before 3 is seen by 4. A packet after 3 raises the interrupt; the device
/// publishes the used ring before raising it, and the control thread reads the probe after
/// reading the cause, so b sees it (INTx is level-triggered: a packet after a's cause read
/// raises the line again once re-armed). Exactly one side wins the CAS, so each wake writes
/// the eventfd once and is drained once: no stale wake-up is left for the next sleep.
///
/// With VFIO and MSI-X each queue has a vector of its own, delivered to an eventfd by the
/// kernel: the queue thread would poll that eventfd in step 5 and the control thread would
/// have nothing to fan out. The queue loop only sees "sleep on my eventfd".
public struct QueueWaker: @unchecked Sendable {
    static let running: UInt32 = 0
    static let armed: UInt32 = 1
    static let slotStride = 128

    struct Slot: ~Copyable {
        let state: Atomic<UInt32>
        /// Wake-ups the control thread sent to this queue (written by it only).
        let wakes: Atomic<UInt64>
        let eventFD: CInt
        /// How to look (width, mask): the same for every sleep of a queue, written before its
        /// first `armed` store and never changed after, so the control thread reads it safely.
        var probe: ReceiveProbe
        /// Where to look, which may change with every sleep (a descriptor ring's next
        /// descriptor; virtio's used index stays put): an atomic, stored before `armed` and
        /// loaded after it, as `expected`.
        let address: Atomic<UInt>
        /// The value that means "nothing new", which changes with every sleep: an atomic,
        /// stored before `armed` and loaded after it.
        let expected: Atomic<UInt32>
    }

    let base: UnsafeMutableRawPointer
    public let count: Int

    /// One slot and one eventfd per queue.
    public init(queues: Int) throws {
        precondition(queues >= 1 && queues <= 64, "a waker serves 1 to 64 queues")
        precondition(MemoryLayout<Slot>.size <= Self.slotStride)
        let base = UnsafeMutableRawPointer.allocate(byteCount: Self.slotStride * queues, alignment: Self.slotStride)
        func slot(_ i: Int) -> UnsafeMutablePointer<Slot> { (base + i * Self.slotStride).assumingMemoryBound(to: Slot.self) }
        for q in 0..<queues {
            let fd = uio_eventfd_nonblocking()
            guard fd >= 0 else {
                let code = errno
                for i in 0..<q { close(slot(i).pointee.eventFD); slot(i).deinitialize(count: 1) }
                base.deallocate()
                throw UIOError.device("eventfd for queue \(q) failed: \(String(cString: strerror(code))); raise the open-file limit (ulimit -n)")
            }
            (base + q * Self.slotStride).bindMemory(to: Slot.self, capacity: 1)
                .initialize(to: Slot(state: Atomic(Self.running), wakes: Atomic(0), eventFD: fd, probe: .none,
                                     address: Atomic(0), expected: Atomic(0)))
        }
        self.base = base
        count = queues
    }

    /// Closes the eventfds. Only after every queue thread has returned.
    public func destroy() {
        for q in 0..<count {
            close(slot(q).pointee.eventFD)
            slot(q).deinitialize(count: 1)
        }
        base.deallocate()
    }

    func slot(_ q: Int) -> UnsafeMutablePointer<Slot> {
        (base + q * Self.slotStride).assumingMemoryBound(to: Slot.self)
    }

    /// The eventfd queue `q` sleeps on (to hand to VFIO as an MSI-X trigger, for instance).
    public func eventFD(queue q: Int) -> CInt { slot(q).pointee.eventFD }
    /// Wake-ups sent to queue `q` so far.
    public func wakes(queue q: Int) -> UInt64 { slot(q).pointee.wakes.load(ordering: .relaxed) }

    /// How a queue thread's `sleep(queue:)` ended.
    public enum SleepOutcome: Sendable, Equatable {
        /// The re-check after arming found a packet: no sleep.
        case lateArrival
        /// The control thread woke this queue: its ring has a packet.
        case woken
        /// Nothing arrived within the timeout.
        case timedOut
    }

    /// Steps 1-6 for `queue` (its handle's owner calls this). The caller disables the queue's
    /// interrupt afterwards, when it goes back to polling.
    public func sleep<Q: QueuePair & ~Copyable>(_ queue: inout Q, timeout: Duration) throws -> SleepOutcome {
        let s = arm(&queue)
        if queue.hasPendingReceive() { return try settle(s) ? .woken : .lateArrival }
        try Self.waitForInput(s.pointee.eventFD, timeout: timeout, what: "queue \(queue.index)'s eventfd")
        // Woken, timed out or interrupted by a signal (a stop request): whichever, leave.
        return try settle(s) ? .woken : .timedOut
    }

    /// Steps 1-6 for two queues served by one thread, each through its own device's waker
    /// (the multi-queue forwarder: NIC A's queue q and NIC B's queue q): arms both, re-checks
    /// both, and sleeps until either device's control thread wakes its queue. The caller
    /// disables both queues' interrupts afterwards.
    public static func sleep<A: QueuePair & ~Copyable, B: QueuePair & ~Copyable>(
        _ a: inout A, on wakerA: QueueWaker, _ b: inout B, on wakerB: QueueWaker, timeout: Duration
    ) throws -> SleepOutcome {
        let sa = wakerA.arm(&a), sb = wakerB.arm(&b)
        let pending = a.hasPendingReceive() || b.hasPendingReceive()
        if !pending {
            try waitForInput(sa.pointee.eventFD, sb.pointee.eventFD, timeout: timeout,
                             what: "the eventfds of queue \(a.index) and \(b.index)")
        }
        // Both slots go back to running; each one its control thread already woke is drained.
        let wokenA = try wakerA.settle(sa), wokenB = try wakerB.settle(sb)
        if wokenA || wokenB { return .woken }
        return pending ? .lateArrival : .timedOut
    }

    /// Steps 1-3: publishes the queue's probe, arms its slot, enables its interrupt.
    private func arm<Q: QueuePair & ~Copyable>(_ queue: inout Q) -> UnsafeMutablePointer<Slot> {
        let s = slot(queue.index)
        let probe = queue.receiveProbe()
        if s.pointee.probe.address == nil {
            s.pointee.probe = probe
        } else {
            precondition(s.pointee.probe.width == probe.width && s.pointee.probe.mask == probe.mask,
                         "queue \(queue.index): its receive probe changed width or mask")
        }
        s.pointee.address.store(UInt(bitPattern: probe.address), ordering: .relaxed)
        s.pointee.expected.store(probe.expected, ordering: .relaxed)
        s.pointee.state.store(Self.armed, ordering: .sequentiallyConsistent)
        queue.enableInterrupt()
        return s
    }

    /// Steps 4 and 6: back to running. Returns whether the control thread had already woken
    /// the queue (it won the CAS), in which case its eventfd write is drained, so that no
    /// stale wake-up is left for the next sleep.
    private func settle(_ s: UnsafeMutablePointer<Slot>) throws -> Bool {
        if disarm(s) { return false }
        try drain(s)
        return true
    }

    /// poll(2) for input on `first` (and `second`, when given), up to `timeout`; a signal
    /// (EINTR) ends it early. The pollfds live on the stack: no allocation per sleep.
    private static func waitForInput(_ first: CInt, _ second: CInt? = nil, timeout: Duration, what: String) throws {
        var fds = (pollfd(fd: first, events: Int16(POLLIN), revents: 0), pollfd(fd: second ?? -1, events: Int16(POLLIN), revents: 0))
        let count: nfds_t = second == nil ? 1 : 2
        let ready = withUnsafeMutableBytes(of: &fds) {
            poll($0.baseAddress!.assumingMemoryBound(to: pollfd.self), count, timeout.pollMilliseconds)
        }
        if ready < 0 && errno != EINTR { throw UIOError.fromErrno("poll", path: what) }
    }

    private func disarm(_ s: UnsafeMutablePointer<Slot>) -> Bool {
        s.pointee.state.compareExchange(expected: Self.armed, desired: Self.running, ordering: .sequentiallyConsistent).exchanged
    }

    /// Reads the eventfd back to 0. The control thread writes it right after winning the CAS:
    /// if that write is not there yet, wait for it (the eventfd is non-blocking, as VFIO's).
    private func drain(_ s: UnsafeMutablePointer<Slot>) throws {
        var value: UInt64 = 0
        while true {
            let n = read(s.pointee.eventFD, &value, 8)
            if n == 8 { return }
            if n < 0 && (errno == EINTR || errno == EAGAIN) {
                var pfd = pollfd(fd: s.pointee.eventFD, events: Int16(POLLIN), revents: 0)
                _ = poll(&pfd, 1, 10)
                continue
            }
            throw UIOError.fromErrno("read", path: "a queue's eventfd")
        }
    }

    /// Wakes every sleeping queue, work or not: for a stop request, so that no queue thread
    /// sleeps out its timeout first.
    public func wakeAll() {
        for q in 0..<count {
            let s = slot(q)
            guard s.pointee.state.compareExchange(expected: Self.armed, desired: Self.running, ordering: .sequentiallyConsistent).exchanged
            else { continue }
            var one: UInt64 = 1
            _ = write(s.pointee.eventFD, &one, 8)
        }
    }

    /// The control thread's step b: wakes every armed queue in `mask` whose ring has a packet.
    /// Returns how many it woke.
    @discardableResult
    public func wakeQueuesWithWork(mask: UInt64 = ~0) -> Int {
        var woken = 0
        for q in 0..<count where mask & (1 << UInt64(q)) != 0 {
            let s = slot(q)
            guard s.pointee.state.load(ordering: .sequentiallyConsistent) == Self.armed,
                  s.pointee.probe.isPending(at: s.pointee.address.load(ordering: .relaxed),
                                            expected: s.pointee.expected.load(ordering: .relaxed)),
                  s.pointee.state.compareExchange(expected: Self.armed, desired: Self.running, ordering: .sequentiallyConsistent).exchanged
            else { continue }
            var one: UInt64 = 1
            // An eventfd write of 1 cannot fail short of overflowing 2^64 − 2.
            _ = write(s.pointee.eventFD, &one, 8)
            s.pointee.wakes.wrappingAdd(1, ordering: .relaxed)
            woken += 1
        }
        return woken
    }
}
