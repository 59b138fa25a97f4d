/// What the device does with its queues: transmit, receive and control (virtio 1.0 §5.1.6).
/// Called only from `VirtioNetModel.step()` and friends, never from a register access.
extension VirtioNetDeviceState {
    typealias Control = VirtioNetModelLayout.Control

    // MARK: Transmit (§5.1.6.2)

    /// Sends every available TX chain of the active pairs whose queue was kicked (or all,
    /// when the device polls). Returns the number of frames sent; they are appended to
    /// `transmitted`.
    mutating func processTX() -> Int {
        var sent = 0
        for pair in 0..<min(activePairs, pairCount) { sent += processTX(pair: pair) }
        return sent
    }

    private mutating func processTX(pair: Int) -> Int {
        let q = 2 * pair + 1
        guard isLive, queues[q].enabled, queues[q].kicked || configuration.txPolling else { return 0 }
        queues[q].kicked = false
        var sent = 0
        do throws(VirtioFault) {
            while let chain = try queues[q].pop(memory) {
                try transmit(chain, queue: q)
                // QEMU reports 0 bytes written for a TX buffer: the device wrote nothing.
                try queues[q].fill(head: chain.head, length: 0, memory)
                sent += 1
            }
            try publishAndInterrupt(q)
        } catch {
            record(error)
        }
        txFramesPerPair[pair] += UInt64(sent)
        return sent
    }

    private mutating func transmit(_ chain: SimulatedVirtqueue.Chain, queue: Int) throws(VirtioFault) {
        if !chain.writable.isEmpty {
            record(.protocolViolation("TX chain at descriptor \(chain.head) has device-writable descriptors; the device ignores them"))
        }
        var bytes: [UInt8] = []
        for segment in chain.readable {
            let p = try memory.pointer(segment.address, segment.length, "TX buffer of descriptor chain \(chain.head)")
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: p, count: segment.length))
        }
        let header = headerSize
        guard bytes.count >= header else {
            throw .badRing(queue: queue, reason: "TX chain at descriptor \(chain.head) holds \(bytes.count) bytes, less than the \(header)-byte virtio-net header")
        }
        if !anyLayout, let first = chain.readable.first, first.length != header {
            record(.protocolViolation("TX chain at descriptor \(chain.head): without ANY_LAYOUT the \(header)-byte header must be alone in the first descriptor, which has \(first.length) bytes"))
        }
        if bytes[0] != 0 || bytes[1] != 0 {
            record(.protocolViolation("TX header asks for flags 0x\(String(bytes[0], radix: 16)), gso_type \(bytes[1]), but no checksum or GSO offload was offered"))
        }
        let frame = Array(bytes[header...])
        counters.txFrames += 1
        counters.txBytes += UInt64(frame.count)
        transmitted.append(frame)
    }

    // MARK: Receive (§5.1.6.3, §5.1.6.4)

    /// Places waiting frames into posted RX buffers. A frame that finds no buffer (or too
    /// little room) is dropped and counted, as a NIC whose ring is empty drops at the wire.
    /// Returns the number of frames handled (delivered, filtered or dropped).
    mutating func deliverRX() -> Int {
        let waiting = rxPending.count - rxPendingHead
        guard waiting > 0 else { return 0 }
        let pairs = min(activePairs, pairCount)
        guard isLive, (0..<pairs).allSatisfy({ queues[2 * $0].enabled }) else {
            counters.rxDropped += UInt64(waiting)
            rxPending.removeAll()
            rxPendingHead = 0
            return waiting
        }
        var touched = [Bool](repeating: false, count: pairs)
        do throws(VirtioFault) {
            while rxPendingHead < rxPending.count {
                let frame = rxPending[rxPendingHead]
                rxPendingHead += 1
                guard accepts(frame) else { counters.rxFiltered += 1; continue }
                let pair = pairs == 1 ? 0 : Int(Self.flowHash(frame) % UInt32(pairs))
                touched[pair] = true
                if try receive(frame, queue: 2 * pair) { rxFramesPerPair[pair] += 1 }
            }
            for pair in 0..<pairs where touched[pair] { try publishAndInterrupt(2 * pair) }
        } catch {
            record(error)
        }
        rxPending.removeFirst(rxPendingHead)
        rxPendingHead = 0
        return waiting
    }

    /// Which pair a frame goes to, standing in for the multi-queue tap, where Linux's tun
    /// picks the queue from the flow hash of the packet: a hash of IPv4 source and
    /// destination and, for TCP and UDP, the ports (FNV-1a over those bytes), so that
    /// one flow always lands on one queue. Anything else goes to pair 0.
    static func flowHash(_ frame: [UInt8]) -> UInt32 {
        guard frame.count >= 34, frame[12] == 0x08, frame[13] == 0x00, frame[14] >> 4 == 4 else { return 0 }
        var hash: UInt32 = 2_166_136_261
        func mix(_ b: UInt8) { hash = (hash ^ UInt32(b)) &* 16_777_619 }
        for i in 26..<34 { mix(frame[i]) }
        let headerLength = Int(frame[14] & 0x0f) * 4
        let proto = frame[23]
        if proto == 6 || proto == 17, frame.count >= 14 + headerLength + 4 {
            for i in 0..<4 { mix(frame[14 + headerLength + i]) }
        }
        return hash
    }

    /// Places one frame into RX virtqueue `q`; returns whether it was delivered (false: dropped).
    private mutating func receive(_ frame: [UInt8], queue q: Int) throws(VirtioFault) -> Bool {
        let needed = headerSize + frame.count
        let mergeable = negotiated.contains(.mergeableRXBuffers)
        var chains: [SimulatedVirtqueue.Chain] = []
        var capacity = 0
        // One chain, or with MRG_RXBUF as many as the frame needs (§5.1.6.3.1).
        while capacity < needed && (chains.isEmpty || mergeable), let chain = try queues[q].pop(memory) {
            guard chain.readable.isEmpty else {
                throw .badRing(queue: q, reason: "RX chain at descriptor \(chain.head) has device-readable descriptors")
            }
            chains.append(chain)
            capacity += chain.writableCapacity
        }
        guard capacity >= needed else {
            queues[q].unpop(chains.count)  // the buffers stay posted for a smaller frame
            counters.rxDropped += 1
            if !chains.isEmpty { counters.rxTooLarge += 1 }
            return false
        }
        if !anyLayout, let first = chains[0].writable.first, first.length != headerSize {
            record(.protocolViolation("RX chain at descriptor \(chains[0].head): without ANY_LAYOUT the \(headerSize)-byte header must have its own descriptor, which has \(first.length) bytes"))
        }
        // The header: no checksum, no GSO; num_buffers (when present) counts the chains used.
        var bytes = [UInt8](repeating: 0, count: headerSize)
        if headerSize == Layout.NetHeader.size {
            bytes[Layout.NetHeader.numBuffersOffset] = UInt8(chains.count & 0xff)
            bytes[Layout.NetHeader.numBuffersOffset + 1] = UInt8(chains.count >> 8)
        }
        bytes += frame
        var offset = 0
        for chain in chains {
            var written = 0
            for segment in chain.writable where offset < bytes.count {
                let n = min(segment.length, bytes.count - offset)
                let p = try memory.pointer(segment.address, n, "RX buffer of descriptor chain \(chain.head)")
                bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
                offset += n
                written += n
            }
            try queues[q].fill(head: chain.head, length: written, memory)
        }
        counters.rxFrames += 1
        counters.rxBytes += UInt64(frame.count)
        return true
    }

    /// QEMU's receive_filter without a MAC table: promiscuous takes everything; otherwise
    /// broadcast, multicast with ALLMULTI, and unicast to our own address.
    private func accepts(_ frame: [UInt8]) -> Bool {
        guard !promiscuous, frame.count >= 6 else { return true }
        let destination = Array(frame[0..<6])
        if destination == MACAddressBytes.broadcast { return true }
        if destination[0] & 1 != 0 { return allMulticast }
        return destination == configuration.mac.array
    }

    // MARK: Control (§5.1.6.5)

    /// Executes the commands on the control queue after a kick. Returns how many.
    mutating func processControl() -> Int {
        guard let q = controlQueueIndex, isLive, queues[q].enabled, queues[q].kicked else { return 0 }
        queues[q].kicked = false
        var handled = 0
        do throws(VirtioFault) {
            while let chain = try queues[q].pop(memory) {
                var bytes: [UInt8] = []
                for segment in chain.readable {
                    let p = try memory.pointer(segment.address, segment.length, "control command of chain \(chain.head)")
                    bytes.append(contentsOf: UnsafeRawBufferPointer(start: p, count: segment.length))
                }
                guard bytes.count >= 2, let ackSegment = chain.writable.last, ackSegment.length >= 1 else {
                    throw .badRing(queue: q, reason: "control chain at descriptor \(chain.head) needs a 2-byte class/command header and a device-writable ack byte")
                }
                let ack = execute(class: bytes[0], command: bytes[1], data: Array(bytes[2...]))
                try memory.store(ack, at: ackSegment.address, "control ack of chain \(chain.head)")
                try queues[q].fill(head: chain.head, length: 1, memory)
                handled += 1
            }
            try publishAndInterrupt(q)
        } catch {
            record(error)
        }
        return handled
    }

    private mutating func execute(class commandClass: UInt8, command: UInt8, data: [UInt8]) -> UInt8 {
        counters.controlCommands += 1
        if commandClass == Control.classMQ {
            // virtqueue_pairs, le16, between 1 and max_virtqueue_pairs (§5.1.6.5.5).
            guard negotiated.contains(.multiQueue), command == Control.mqPairsSet, data.count == 2 else { return Control.err }
            let pairs = Int(data[0]) | Int(data[1]) << 8
            guard pairs >= 1, pairs <= pairCount else {
                record(.protocolViolation("VQ_PAIRS_SET \(pairs): must be between 1 and max_virtqueue_pairs \(configuration.maxQueuePairs)"))
                return Control.err
            }
            activePairs = pairs
            return Control.ok
        }
        guard commandClass == Control.classRX, negotiated.contains(.controlRX) else { return Control.err }
        guard data.count == 1 else { return Control.err }
        switch command {
        case Control.rxPromisc: promiscuous = data[0] != 0
        case Control.rxAllMulti: allMulticast = data[0] != 0
        default: return Control.err
        }
        return Control.ok
    }

    // MARK: Used ring and interrupt

    /// Publishes what was filled and interrupts unless the driver set NO_INTERRUPT (§2.4.7).
    private mutating func publishAndInterrupt(_ q: Int) throws(VirtioFault) {
        guard try queues[q].publish(memory) else { return }
        if try queues[q].interruptSuppressed(memory) {
            counters.suppressedInterrupts += 1
        } else {
            raiseQueueInterrupt()
        }
    }
}

enum MACAddressBytes {
    static let broadcast: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
}
