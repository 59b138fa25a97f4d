import Foundation
import Testing
@testable import UIO

/// Whether this host can back the real-memory tests. CI reserves hugepages in .ci/run
/// (`sysctl vm.nr_hugepages=64`) and runs as root, so there they always run.
enum Hugepages {
    static var free: Int {
        let meminfo = (try? Sysfs.live.read("/proc/meminfo")) ?? ""
        let line = meminfo.split(separator: "\n").first { $0.hasPrefix("HugePages_Free:") }
        return line.flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0) } } ?? 0
    }

    /// A few free 2 MiB pages, and root (pagemap hides frame numbers without CAP_SYS_ADMIN).
    static var usable: Bool { free >= 4 && geteuid() == 0 }

    static let skipReason: Comment = "needs root and ≥ 4 free hugepages: run `sysctl vm.nr_hugepages=64` (CI does)"
}

extension Mempool {
    /// `#require` cannot unwrap a ~Copyable optional; a thrown error fails the test the same way.
    func requireBuffer() throws -> PacketBuffer {
        guard let buffer = allocate() else { throw UIOError.device("the test's mempool ran out of buffers") }
        return buffer
    }
}
