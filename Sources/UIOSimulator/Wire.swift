import Synchronization

/// A cable between two simulated NICs of any kind: what one transmits, the other receives.
///
/// Frames move when the sender's TX is processed (`step()`, `transmitStep()`, or a background
/// runner) and land in the receiver's wire queue; the receiver's next step puts them in its
/// RX ring. Every frame that crosses is captured, in order.
public final class Wire: Sendable {
    /// Which end sent a captured frame.
    public enum Direction: Sendable, Equatable {
        case aToB
        case bToA
    }

    /// One frame that crossed the wire, and which way.
    public struct Capture: Sendable, Equatable {
        public var direction: Direction
        public var frame: [UInt8]
    }

    public let a: any WirePort
    public let b: any WirePort
    private let log = CaptureLog()

    /// Behind its own reference so the sinks can share it without keeping the wire alive.
    final class CaptureLog: Sendable {
        let captures = Mutex<[Capture]>([])
        func append(_ capture: Capture) { captures.withLock { $0.append(capture) } }
    }

    /// Connects `a` and `b`. From now on their transmitted frames go to each other instead
    /// of `takeTransmitted()`.
    public init(_ a: any WirePort, _ b: any WirePort) {
        self.a = a
        self.b = b
        // Weak: two models pointing at each other would otherwise never be freed.
        a.setTransmitSink { [log, weak b] frame in
            log.append(Capture(direction: .aToB, frame: frame))
            b?.inject(frame: frame)
        }
        b.setTransmitSink { [log, weak a] frame in
            log.append(Capture(direction: .bToA, frame: frame))
            a?.inject(frame: frame)
        }
    }

    /// Unplugs the cable: both models collect their transmitted frames again.
    public func disconnect() {
        a.setTransmitSink(nil)
        b.setTransmitSink(nil)
    }

    /// Sends on both sides, then delivers on both sides, so one call carries a frame from
    /// one driver's TX ring to the other's RX ring.
    @discardableResult
    public func step() -> Bool {
        let sent = a.transmitStep() + b.transmitStep()
        let received = a.receiveStep() + b.receiveStep()
        return sent + received > 0
    }

    /// Every frame that crossed, in order.
    public var captures: [Capture] { log.captures.withLock { $0 } }

    public func takeCaptures() -> [Capture] {
        log.captures.withLock { c in defer { c.removeAll() }; return c }
    }
}
