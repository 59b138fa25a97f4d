#if canImport(Glibc)
import Glibc
#endif

/// The interrupt line of a UIO node: `/dev/uioN`, kept open for the device's lifetime.
///
/// Keeping it open matters for crash safety: `uio_pci_generic` clears Bus Master when the
/// last descriptor closes, which stops the device's DMA even after a `kill -9`.
public struct UIOInterruptLine: ~Copyable, InterruptLine {
    public let path: String
    public let method: InterruptRearmMethod
    /// The open `/dev/uioN`, for callers that poll several devices at once.
    public let fileDescriptor: CInt
    private let config: PCIConfigSpace?
    private var lastCount: UInt32?

    /// Opens `devicePath`. `config` is needed for the `.pciCommand` method.
    public init(devicePath: String, method: InterruptRearmMethod, config: consuming PCIConfigSpace?) throws {
        let fd = open(devicePath, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw UIOError.fromErrno("open", path: devicePath) }
        if method == .pciCommand && config == nil {
            close(fd)
            throw UIOError.device("re-arming through PCI_COMMAND needs the device's config space")
        }
        self.path = devicePath
        self.method = method
        self.fileDescriptor = fd
        self.config = config
    }

    deinit { close(fileDescriptor) }

    public mutating func wait(timeout: Duration?) throws -> InterruptEvent? {
        if let timeout {
            var pfd = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
            let ms = timeout.pollMilliseconds
            let ready = Glibc.poll(&pfd, 1, ms)
            if ready < 0 {
                if errno == EINTR { return nil }
                throw UIOError.fromErrno("poll", path: path)
            }
            if ready == 0 { return nil }
        }
        var count: UInt32 = 0
        let n = Glibc.read(fileDescriptor, &count, 4)
        if n < 0 && errno == EINTR { return nil }
        if n < 0 { throw UIOError.fromErrno("read", path: path) }
        // errno is stale after a short read: say what happened instead.
        guard n == 4 else { throw UIOError.device("read \(n) bytes from \(path), expected a 4-byte interrupt count: is it a UIO device?") }
        let missed = lastCount.map { count &- $0 > 1 ? count &- $0 &- 1 : 0 } ?? 0
        lastCount = count
        return InterruptEvent(count: count, missed: missed)
    }

    public mutating func rearm() throws {
        switch method {
        case .pciCommand:
            try config!.clearCommandBits(PCIConfig.commandInterruptDisable)
        case .irqControl:
            var one: UInt32 = 1
            guard Glibc.write(fileDescriptor, &one, 4) == 4 else {
                if errno == ENOSYS {
                    throw UIOError.device("\(path) has no irqcontrol (write gave ENOSYS): use the pci-command re-arm method")
                }
                throw UIOError.fromErrno("write", path: path)
            }
        }
    }
}
