import UIO

/// What /proc says about the host, read through `Sysfs` so that tests can fake it.
struct HostFacts {
    let sysfs: Sysfs

    /// A `Key: value` line of /proc/meminfo, as a number (kB for sizes, pages for HugePages_*).
    func meminfo(_ key: String) -> Int? {
        guard let text = try? sysfs.read("/proc/meminfo") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }

    /// Mount points of hugetlbfs file systems, from /proc/mounts (`device dir type options …`).
    func hugetlbfsMounts() -> [String] {
        guard let text = try? sysfs.read("/proc/mounts") else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            return fields.count >= 3 && fields[2] == "hugetlbfs" ? String(fields[1]) : nil
        }
    }

    /// The effective capability set (`CapEff:` of /proc/self/status, a hex bit mask).
    func effectiveCapabilities() -> UInt64? {
        guard let text = try? sysfs.read("/proc/self/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("CapEff:") {
            return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { UInt64($0, radix: 16) }
        }
        return nil
    }

    /// CAP_SYS_ADMIN is capability 21 (linux/capability.h): without it pagemap reads PFN 0.
    static let capSysAdmin: UInt64 = 1 << 21
}
