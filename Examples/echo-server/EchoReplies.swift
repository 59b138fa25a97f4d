import PacketProcessing
import UIO

extension EchoResponder {
    /// Rewrites every frame of `batch` into its reply, in place, and removes (frees) those
    /// that need none: the echo server's whole per-packet work, for the single-queue handler
    /// (`EchoHandler`) and the per-queue one (`QueueEchoHandler`) alike.
    @inline(__always)
    mutating func replyInPlace(_ batch: inout PacketBatch) {
        batch.removeAll { packet in
            switch respond(to: packet.data, length: packet.length, capacity: packet.capacity) {
            case .reply(let length):
                packet.length = length
                return false
            case .drop:
                return true
            }
        }
    }
}
