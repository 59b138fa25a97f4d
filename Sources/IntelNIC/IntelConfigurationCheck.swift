import UIO

/// The checks that igb's and ixgbe's configurations share: the same ring, mempool, queue,
/// throttle and link-timeout rules, each chip with its own limits. Throws the first problem
/// found, with what to change.
public enum IntelConfigurationCheck {
    public static func validate(
        driver: String, rxQueues: Int, txQueues: Int, maximumQueues: Int, ringSize: Int, mempoolSize: Int,
        interruptThrottleMicroseconds: Int, maximumThrottleMicroseconds: Int, linkTimeout: Duration,
        minimumRingSize: Int = 64, maximumRingSize: Int = 4096
    ) throws {
        guard ringSize > 0, ringSize & (ringSize - 1) == 0, ringSize <= maximumRingSize else {
            throw UIOError.invalidRingSize(ringSize, maximum: maximumRingSize)
        }
        guard ringSize >= minimumRingSize else {
            throw UIOError.device("\(driver): ring size \(ringSize) is too small: use a power of two from \(minimumRingSize) to \(maximumRingSize) (TX descriptors are cleaned \(AdvancedTXRing.cleanBatch) at a time)")
        }
        guard (1...maximumQueues).contains(rxQueues), (1...maximumQueues).contains(txQueues) else {
            throw UIOError.device("\(driver): \(rxQueues) RX and \(txQueues) TX queues requested: the device has \(maximumQueues) of each, use 1 to \(maximumQueues)")
        }
        guard mempoolSize >= ringSize else {
            throw UIOError.device("\(driver): mempool size \(mempoolSize) cannot fill an RX ring of \(ringSize) descriptors: use a mempool of at least \(ringSize) buffers (\(2 * ringSize) or more leaves room for packets in flight)")
        }
        guard (0...maximumThrottleMicroseconds).contains(interruptThrottleMicroseconds) else {
            throw UIOError.device("\(driver): interrupt throttle \(interruptThrottleMicroseconds) µs is outside EITR's range 0…\(maximumThrottleMicroseconds) µs")
        }
        guard linkTimeout >= .zero else {
            throw UIOError.device("\(driver): link timeout \(linkTimeout) is negative: use zero to not wait for the link")
        }
    }
}
