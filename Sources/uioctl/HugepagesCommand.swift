import ArgumentParser
import Foundation
import UIO

/// `uioctl hugepages N`: reserves 2 MiB hugepages and mounts hugetlbfs.
struct HugepagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hugepages",
        abstract: "Reserve N hugepages (vm.nr_hugepages) and mount hugetlbfs if it is not mounted.",
        discussion: "Needs root. The kernel may reserve fewer pages than asked when memory is fragmented.")

    @Argument(help: "How many default-size (normally 2 MiB) hugepages to reserve in total.")
    var count: Int

    @Option(help: "Where to mount hugetlbfs when no hugetlbfs is mounted.")
    var mount: String = "/dev/hugepages"

    @OptionGroup var options: SysfsOptions

    func validate() throws {
        guard count >= 0 else { throw ValidationError("the page count must be 0 or more") }
    }

    func run() throws {
        let sysfs = options.sysfs
        let host = HostFacts(sysfs: sysfs)
        let knob = "/proc/sys/vm/nr_hugepages"
        do {
            try sysfs.write(knob, "\(count)\n")
        } catch UIOError.permissionDenied(let path) {
            throw UIOError.device("permission denied on \(path): reserving hugepages needs root; run `sudo uioctl hugepages \(count)`")
        }
        // The kernel takes the request as a wish: read back what it really reserved.
        let reserved = Int(try sysfs.readNumber(knob, decimal: true))
        let sizeKB = host.meminfo("Hugepagesize") ?? 2048
        print("reserved \(reserved) hugepages of \(sizeKB) kB (\(reserved * sizeKB / 1024) MiB); \(host.meminfo("HugePages_Free") ?? 0) free")
        if reserved < count {
            print("warning: asked for \(count); memory is too fragmented or too small for more. Reserve early after boot, or add hugepages=\(count) to the kernel command line")
        }

        let mounts = host.hugetlbfsMounts()
        if !mounts.isEmpty {
            print("hugetlbfs already mounted at \(mounts.joined(separator: ", "))")
        } else if !sysfs.root.isEmpty {
            // Never mount anything real while pointed at a fake tree.
            print("hugetlbfs not mounted; not mounting under --sysfs-root")
        } else {
            try mountHugetlbfs(at: mount)
            print("mounted hugetlbfs at \(mount)")
        }
    }

    /// mount(2) directly: no dependency on /bin/mount, and errno says exactly what went wrong.
    private func mountHugetlbfs(at directory: String) throws {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard Glibc.mount("nodev", directory, "hugetlbfs", 0, nil) == 0 else {
            let code = errno
            if code == EPERM || code == EACCES {
                throw UIOError.device("mounting hugetlbfs at \(directory) needs root (CAP_SYS_ADMIN): run `sudo uioctl hugepages \(count)`")
            }
            throw UIOError.systemCall("mount hugetlbfs on", path: directory, errno: code)
        }
    }
}
