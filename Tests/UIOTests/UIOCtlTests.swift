import Foundation
import Testing
@testable import UIO

/// Runs the built `uioctl` binary against fake trees (never against the host's devices).
@Suite struct UIOCtlTests {
    /// `.build/debug/uioctl`, found from this file's path (Tests/UIOTests/ → package root).
    /// `swift test` builds every product, uioctl included.
    static let binary: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/uioctl").path
    }()

    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    func uioctl(_ arguments: String...) throws -> Run {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build uioctl first: swift build --product uioctl")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting, so that a full pipe cannot stall the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// A legacy virtio-net at 00:04.0 bound to uio_pci_generic as uio0, plus a modern one at
    /// 00:05.0 still on virtio-pci, and a non-network device.
    func tree() throws -> FakeSysfs {
        let tree = try FakeSysfs()
        try tree.addPCIDevice("0000:00:04.0", vendor: 0x1af4, device: 0x1000, resource: ResourceFixtures.legacyVirtioNet,
                              driver: "uio_pci_generic", uioIndex: 0)
        try tree.addUIONode(index: 0, events: 7,
                            maps: [.init(addr: 0xfebf_1000, size: 0x1000, name: "0000:00:04.0")],
                            ports: [.init(start: 0xc000, size: 0x20, name: "0000:00:04.0")])
        try tree.addPCIDevice("0000:00:05.0", vendor: 0x1af4, device: 0x1041, resource: ResourceFixtures.modernVirtioNet,
                              driver: "virtio-pci")
        try tree.addPCIDevice("0000:00:06.0", vendor: 0x1af4, device: 0x1042, classCode: 0x010000,
                              resource: ResourceFixtures.empty + "\n", driver: "virtio-pci")
        return tree
    }

    @Test func aMalformedAddressIsAUsageError() throws {
        let run = try uioctl("status", "00:zz.0")
        #expect(run.status == 64)
        #expect(run.stderr == "error: invalid PCI address '00:zz.0': device 'zz' is not a hex number of at most 2 digits; expected DDDD:BB:DD.F, for example 0000:00:04.0 (see `uioctl list`)\n")
        #expect(run.stdout.isEmpty)
    }

    @Test func aMissingDeviceIsAClearError() throws {
        let tree = try tree()
        let run = try uioctl("status", "0000:00:09.0", "--sysfs-root", tree.root)
        #expect(run.status != 0)
        #expect(run.stderr == "error: no PCI device at 0000:00:09.0: check the address with `uioctl list` or `lspci -D`\n")
    }

    @Test func statusShowsTheNodeAndHowEachBARIsMapped() throws {
        let tree = try tree()
        let run = try uioctl("status", "00:04.0", "--sysfs-root", tree.root)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.first == "0000:00:04.0  1af4:1000  virtio-net (legacy/transitional)")
        #expect(lines.contains("driver     uio_pci_generic"))
        #expect(lines.contains("UIO        uio0: uio_pci_generic 0.01.0, 7 interrupts so far, /dev/uio0"))
        #expect(lines.contains("BAR0       I/O ports, 32 B at 0xc000"))
        #expect(lines.contains("→ port I/O at 0xc000 (ioperm)"))
        #expect(lines.contains("→ else pread/pwrite \(tree.root)/sys/bus/pci/devices/0000:00:04.0/resource0 (no ioperm: one syscall per access)"))
        #expect(lines.contains("BAR1       memory, 32-bit, 4 KiB at 0xfebf1000"))
        #expect(lines.contains("→ UIO map0 (mmap offset 0 × page size)"))
        #expect(lines.contains("interrupts re-arm by pci-command: clear PCI_COMMAND Interrupt Disable (bit 10) in config space"))
    }

    @Test func statusOfAnUnboundModernDeviceUsesResourceFiles() throws {
        let tree = try tree()
        let run = try uioctl("status", "0000:00:05.0", "--sysfs-root", tree.root)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("not bound: 0000:00:05.0 is not bound to a UIO driver (it is bound to 'virtio-pci')"))
        #expect(run.stdout.contains("BAR4       memory, 64-bit, prefetchable, 16 KiB at 0xfe000000"))
        #expect(run.stdout.contains("→ mmap \(tree.root)/sys/bus/pci/devices/0000:00:05.0/resource4"))
    }

    @Test func listShowsNetworkDevicesThroughLibpci() throws {
        let tree = try tree()
        let run = try uioctl("list", "--sysfs-root", tree.root)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let rows = run.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(rows == [
            "ADDRESS ID DESCRIPTION DRIVER UIO SWIFT-UIO",
            "0000:00:04.0 1af4:1000 virtio-net (legacy/transitional) uio_pci_generic uio0 virtio-net",
            "0000:00:05.0 1af4:1041 virtio-net (modern) virtio-pci - virtio-net",
        ])
        let all = try uioctl("list", "--all", "--sysfs-root", tree.root)
        #expect(all.stdout.contains("0000:00:06.0  1af4:1042  storage controller"))
    }

    func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    @Test func listJSONHasOneObjectPerNetworkDevice() throws {
        let tree = try tree()
        let run = try uioctl("list", "--json", "--sysfs-root", tree.root)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let rows = try #require(try json(run.stdout) as? [[String: Any]])
        #expect(rows.count == 2)
        let legacy = try #require(rows.first)
        #expect(legacy["address"] as? String == "0000:00:04.0")
        #expect(legacy["vendorID"] as? String == "0x1af4" && legacy["deviceID"] as? String == "0x1000")
        #expect(legacy["classCode"] as? String == "0x020000")
        #expect(legacy["driver"] as? String == "uio_pci_generic")
        #expect(legacy["uioIndex"] as? Int == 0)
        #expect(legacy["swiftUIODriver"] as? String == "virtio-net")
        let modern = rows[1]
        #expect(modern["driver"] as? String == "virtio-pci")
        #expect(modern["uioIndex"] is NSNull, "an absent UIO node is null, not missing: \(modern)")
        let all = try #require(try json(try uioctl("list", "--all", "--json", "--sysfs-root", tree.root).stdout) as? [[String: Any]])
        #expect(all.count == 3)
        #expect(all.last?["swiftUIODriver"] is NSNull)
    }

    @Test func statusJSONGivesTheNodeAndEachBARsAccess() throws {
        let tree = try tree()
        let run = try uioctl("status", "00:04.0", "--json", "--sysfs-root", tree.root)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let status = try #require(try json(run.stdout) as? [String: Any])
        #expect(status["address"] as? String == "0000:00:04.0")
        #expect(status["swiftUIODriver"] as? String == "virtio-net")
        #expect(status["unsupportedReason"] is NSNull && status["uioProblem"] is NSNull)
        #expect(status["interruptRearm"] as? String == "pci-command")
        let uio = try #require(status["uio"] as? [String: Any])
        #expect(uio["index"] as? Int == 0 && uio["interruptCount"] as? Int == 7 && uio["devicePath"] as? String == "/dev/uio0")
        let maps = try #require(uio["maps"] as? [[String: Any]])
        #expect(maps.first?["address"] as? String == "0xfebf1000" && maps.first?["size"] as? Int == 4096)
        let bars = try #require(status["bars"] as? [[String: Any]])
        #expect(bars.count == 2)
        #expect(bars[0]["kind"] as? String == "io-ports" && bars[0]["start"] as? String == "0xc000" && bars[0]["size"] as? Int == 32)
        #expect(bars[0]["access"] as? String == "port I/O at 0xc000 (ioperm)")
        #expect((bars[0]["fallbackAccess"] as? String)?.hasPrefix("pread/pwrite ") == true)
        #expect(bars[1]["kind"] as? String == "memory32" && bars[1]["access"] as? String == "UIO map0 (mmap offset 0 × page size)")

        let unbound = try #require(try json(try uioctl("status", "0000:00:05.0", "--json", "--sysfs-root", tree.root).stdout) as? [String: Any])
        #expect(unbound["uio"] is NSNull)
        #expect((unbound["uioProblem"] as? String)?.contains("is not bound to a UIO driver (it is bound to 'virtio-pci')") == true)
    }

    @Test func doctorPassesOnAReadyTreeAndFailsOtherwise() throws {
        let tree = try tree()
        try tree.writeMeminfo(total: 64, free: 60)
        try tree.write("/proc/mounts", "nodev /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n")
        try tree.write("/proc/self/status", "Name:\tuioctl\nCapEff:\t000001ffffffffff\n")
        try tree.makeDirectory("/sys/module/uio")
        try tree.makeDirectory("/sys/module/uio_pci_generic")
        try tree.makeDirectory("/sys/class/iommu")

        let ready = try uioctl("doctor", "0000:00:04.0", "--sysfs-root", tree.root)
        #expect(ready.status == 0, "\(ready.stdout)")
        #expect(ready.stdout.contains("OK    60 of 64 hugepages of 2048 kB free"))
        #expect(ready.stdout.contains("OK    bound to uio_pci_generic as uio0"))
        #expect(ready.stdout.contains("OK    read/write access to \(tree.root)/dev/uio0"))

        try FileManager.default.removeItem(atPath: tree.path("/sys/module/uio_pci_generic"))
        try tree.write("/proc/self/status", "CapEff:\t0000000000000000\n")
        try tree.makeDirectory("/sys/class/iommu/dmar0")
        let broken = try uioctl("doctor", "0000:00:05.0", "--sysfs-root", tree.root)
        #expect(broken.status != 0)
        #expect(broken.stdout.contains("FAIL  kernel module uio_pci_generic is not loaded\n      fix: modprobe uio_pci_generic"))
        #expect(broken.stdout.contains("FAIL  no CAP_SYS_ADMIN"))
        #expect(broken.stdout.contains("WARN  IOMMU active (dmar0): UIO gives no IOMMU protection"))
        #expect(broken.stdout.contains("FAIL  0000:00:05.0 is not bound to a UIO driver"))
    }

    @Test func hugepagesWritesTheKnobAndReportsWhatWasReserved() throws {
        let tree = try tree()
        try tree.writeMeminfo(total: 0, free: 0)
        try tree.write("/proc/sys/vm/nr_hugepages", "0\n")
        try tree.write("/proc/mounts", "proc /proc proc rw 0 0\n")
        let run = try uioctl("hugepages", "8", "--sysfs-root", tree.root)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(String(decoding: try tree.read("/proc/sys/vm/nr_hugepages"), as: UTF8.self) == "8\n")
        #expect(run.stdout.contains("reserved 8 hugepages of 2048 kB (16 MiB)"))
        #expect(run.stdout.contains("not mounting under --sysfs-root"))
    }
}
