import Foundation
import Testing
@testable import UIO
import UIODevices

/// What a user sees when the machine is not set up: every message names the problem and
/// says what to do. Each case is built from a fake sysfs, /dev and /proc tree, never the host's.
@Suite struct SetupErrorTests {
    let address = PCIAddress(bus: 0, device: 4, function: 0)

    @Test func aMissingDeviceSaysHowToFindTheRightAddress() throws {
        let tree = try FakeSysfs()
        let error = #expect(throws: UIOError.self) { _ = try UIOPCIDevice(address: address, sysfs: tree.sysfs) }
        #expect(error == .noSuchDevice(address))
        #expect(error?.description == "no PCI device at 0000:00:04.0: check the address with `uioctl list` or `lspci -D`")
    }

    @Test func aDeviceOnAnotherDriverSaysHowToRebindIt() throws {
        let tree = try FakeSysfs()
        try tree.addPCIDevice("0000:00:04.0", vendor: 0x1af4, device: 0x1000, resource: ResourceFixtures.legacyVirtioNet,
                              driver: "virtio-pci")
        let error = #expect(throws: UIOError.self) { _ = try UIOPCIDevice(address: address, sysfs: tree.sysfs) }
        #expect(error == .notBoundToUIO(address, driver: "virtio-pci"))
        #expect(error?.description == "0000:00:04.0 is not bound to a UIO driver (it is bound to 'virtio-pci'): as root, run "
            + "`uioctl bind 0000:00:04.0`, which refuses a NIC whose network interface is in use (check with `uioctl list`), "
            + "or `uioctl bind --vfio 0000:00:04.0` where the machine has an IOMMU")
    }

    @Test func noReservedHugepagesSaysHowToReserveThem() throws {
        let tree = try FakeSysfs()
        try tree.writeMeminfo(total: 0, free: 0)
        let detail = HugepageAllocator(sysfs: tree.sysfs).hugepageStatus(needing: 2 << 20)
        #expect(detail == "no hugepages reserved")
        #expect(UIOError.noHugepages(detail: detail).description
            == "no hugepages available (no hugepages reserved): run `uioctl hugepages 64` or `sysctl vm.nr_hugepages=64`")
    }

    @Test func exhaustedHugepagesSayHowManyAreFree() throws {
        let tree = try FakeSysfs()
        try tree.writeMeminfo(total: 64, free: 1)
        let detail = HugepageAllocator(sysfs: tree.sysfs).hugepageStatus(needing: 4 << 20)
        #expect(UIOError.noHugepages(detail: detail).description
            == "no hugepages available (needed 2 free 2 MiB hugepages, 1 of 64 are free): run `uioctl hugepages 64` or `sysctl vm.nr_hugepages=64`")
    }

    @Test func noMeminfoStillGivesTheFix() throws {
        let tree = try FakeSysfs()
        let detail = HugepageAllocator(sysfs: tree.sysfs).hugepageStatus(needing: 2 << 20)
        #expect(UIOError.noHugepages(detail: detail).description.hasSuffix("run `uioctl hugepages 64` or `sysctl vm.nr_hugepages=64`"))
    }

    /// Tests run as root, where a mode-000 file opens anyway; so the errno mapping is what is
    /// tested here, and the real open only when not root.
    @Test func permissionDeniedOnTheUIONodeSaysToRunAsRoot() {
        for code in [EACCES, EPERM] {
            let error = UIOError.fromErrno("open", path: "/dev/uio0", errno: code)
            #expect(error == .permissionDenied(path: "/dev/uio0"))
            #expect(error.description == "permission denied on /dev/uio0: run as root, or give your group access with `uioctl udev install` "
                + "(see udev/README.md: a UIO device can DMA anywhere in memory, so that access is root-equivalent)")
        }
        #expect(UIOError.fromErrno("open", path: "/dev/uio0", errno: ENOENT) == .systemCall("open", path: "/dev/uio0", errno: ENOENT))
    }

    /// A missing node says which driver is not bound and how to bind it, not only ENOENT.
    @Test func aMissingDeviceNodeSaysHowToBindTheDriver() throws {
        let uio = UIOError.fromErrno("open", path: "/dev/uio3", errno: ENOENT).description
        #expect(uio.hasPrefix("open /dev/uio3 failed: No such file or directory (errno 2): the UIO device node does not exist"))
        #expect(uio.contains("`uioctl bind ADDR`") && uio.contains("--device /dev/uio3"))
        let vfio = UIOError.fromErrno("open", path: "/dev/vfio/12", errno: ENOENT).description
        #expect(vfio.contains("`uioctl bind --vfio ADDR`"))
        let config = UIOError.fromErrno("open", path: "/sys/bus/pci/devices/0000:00:09.0/config", errno: ENOENT).description
        #expect(config.contains("`uioctl list`"))
        let busy = UIOError.fromErrno("open", path: "/dev/uio0", errno: EBUSY).description
        #expect(busy.contains("another process holds the device open"))
        // Other failures keep the plain system-call text.
        #expect(UIOError.fromErrno("read", path: "/tmp/x", errno: EIO).description == "read /tmp/x failed: Input/output error (errno 5)")
        // The real open of a node that is not there, through the interrupt line.
        let tree = try FakeSysfs()
        let missing = #expect(throws: UIOError.self) {
            _ = try UIOInterruptLine(devicePath: tree.path("/dev/uio7"), method: .irqControl, config: nil)
        }
        #expect(missing?.description.contains("uioctl bind ADDR") == true)
    }

    @Test(.enabled(if: getuid() != 0, "root bypasses file permissions"))
    func anUnreadableUIONodeIsPermissionDenied() throws {
        let tree = try FakeSysfs()
        try tree.addPCIDevice("0000:00:04.0", vendor: 0x1af4, device: 0x1000, resource: ResourceFixtures.legacyVirtioNet,
                              driver: "uio_pci_generic", uioIndex: 0)
        try tree.addUIONode(index: 0)
        chmod(tree.path("/dev/uio0"), 0)
        let error = #expect(throws: UIOError.self) { _ = try UIOPCIDevice(address: address, sysfs: tree.sysfs) }
        #expect(error == .permissionDenied(path: tree.path("/dev/uio0")))
    }

    /// Without CAP_SYS_ADMIN the kernel (≥ 4.2) keeps the present bit but reports frame 0.
    @Test func pagemapWithoutCapSysAdminSaysWhichCapabilityIsMissing() throws {
        let tree = try FakeSysfs()
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var entries = [UInt8](repeating: 0, count: 16)
        entries[15] = 0x80  // entry 1 (the page at `page`): present, PFN 0
        try tree.write("/proc/self/pagemap", bytes: entries)
        let allocator = HugepageAllocator(sysfs: tree.sysfs)
        // Only the address's value is used (to index pagemap); it is never dereferenced.
        let pointer = UnsafeRawPointer(bitPattern: page + 12)!
        let error = #expect(throws: UIOError.self) { _ = try allocator.physicalAddress(of: pointer) }
        #expect(error == .pagemapNeedsCapSysAdmin)
        #expect(error?.description == "/proc/self/pagemap returned physical frame 0: reading physical addresses needs CAP_SYS_ADMIN "
            + "(Linux ≥ 4.2); run as root or grant the capability (setcap cap_sys_admin+ep)")
    }

    @Test func pagemapWithAFrameGivesItsAddress() throws {
        let tree = try FakeSysfs()
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var entries = [UInt8](repeating: 0, count: 16)
        entries[8] = 0x34; entries[9] = 0x12; entries[15] = 0x80  // present, PFN 0x1234
        try tree.write("/proc/self/pagemap", bytes: entries)
        let physical = try HugepageAllocator(sysfs: tree.sysfs).physicalAddress(of: UnsafeRawPointer(bitPattern: page + 12)!)
        #expect(physical == 0x1234 * UInt64(page) + 12)
    }

    @Test func aRingSizeThatIsNotAPowerOfTwoSaysWhatToUse() {
        #expect(UIOError.invalidRingSize(100, maximum: 32768).description
            == "ring size 100 is not a power of two between 2 and 32768: use a power of two such as 256 "
            + "(a virtio device that reports such a size needs its queue size set to a power of two, e.g. QEMU's rx_queue_size/tx_queue_size)")
    }

    @Test func anUnsupportedDeviceSaysWhatIsSupportedAndWhatToDo() throws {
        let tree = try FakeSysfs()
        try tree.addPCIDevice("0000:00:04.0", vendor: 0x8086, device: 0x100e, resource: ResourceFixtures.legacyVirtioNet,
                              driver: "uio_pci_generic", uioIndex: 0)
        let info = try PCIDeviceInfo(address: address, sysfs: tree.sysfs)
        let error = #expect(throws: UIOError.self) { try DriverRegistry.require(vendor: info.vendorID, device: info.deviceID) }
        guard case .unsupportedDevice(0x8086, 0x100e, _) = error else {
            Issue.record("\(String(describing: error))")
            return
        }
        let text = error?.description ?? ""
        #expect(text.hasPrefix("no swift-uio driver for PCI device 8086:100e; supported: virtio-net 1af4:1000/1041; ixgbe 8086:"))
        #expect(text.hasSuffix("Pick a supported NIC (`uioctl list` shows which ones swift-uio can drive) and give this one back to its kernel driver"))
    }
}
