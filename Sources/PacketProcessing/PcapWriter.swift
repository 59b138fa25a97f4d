#if canImport(Glibc)
import Glibc
#endif
import UIO

/// Writes frames to a classic pcap file (libpcap format, LINKTYPE_ETHERNET), which tshark,
/// tcpdump and Wireshark read. Buffered: call `flush()` (or `close()`) to be sure it is on disk.
public struct PcapWriter: ~Copyable {
    public let path: String
    private let fd: CInt
    private var buffer: [UInt8] = []
    public private(set) var framesWritten = 0

    /// Creates (or truncates) `path` and writes the global header: magic 0xa1b2c3d4,
    /// version 2.4, snaplen 65535, link type 1 (Ethernet).
    public init(path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw UIOError.fromErrno("open", path: path) }
        self.path = path
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
        append32(0xa1b2_c3d4)
        append16(2)
        append16(4)
        append32(0)  // thiszone
        append32(0)  // sigfigs
        append32(65535)
        append32(1)
    }

    deinit {
        flushBufferBytes()
        Glibc.close(fd)
    }

    /// Appends one frame with the current time.
    public mutating func write(_ frame: UnsafeRawBufferPointer) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        append32(UInt32(truncatingIfNeeded: now.tv_sec))
        append32(UInt32(truncatingIfNeeded: now.tv_nsec / 1000))
        let captured = min(frame.count, 65535)
        append32(UInt32(captured))
        append32(UInt32(frame.count))
        buffer.append(contentsOf: frame.prefix(captured))
        framesWritten += 1
        if buffer.count >= 1 << 16 { flushBuffer() }
    }

    public mutating func flush() { flushBuffer() }

    private mutating func append16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { buffer.append(contentsOf: $0) } }
    private mutating func append32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { buffer.append(contentsOf: $0) } }

    private func flushBufferBytes() {
        buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { if errno == EINTR { continue }; return }
                offset += n
            }
        }
    }

    private mutating func flushBuffer() {
        flushBufferBytes()
        buffer.removeAll(keepingCapacity: true)
    }
}
