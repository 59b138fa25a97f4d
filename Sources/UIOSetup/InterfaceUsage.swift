import UIO

/// Whether a PCI device's network interfaces carry traffic, so that `bind` does not cut the
/// user's own SSH session.
///
/// An interface counts as in use when it has an IPv4 route (`/proc/net/route`), or when it is
/// up (`operstate` up or IFF_UP in `flags`) and has a global address (`ip -o addr show dev IF
/// scope global`). The fe80:: link-local address and route that every up interface gets do not
/// count.
public struct InterfaceUsage {
    public let sysfs: Sysfs
    /// The global-scope addresses of an interface. Live: `ip -o addr`; tests inject their own.
    public let addresses: (String) -> [String]

    public init(sysfs: Sysfs, addresses: ((String) -> [String])? = nil) {
        self.sysfs = sysfs
        self.addresses = addresses ?? { Self.liveAddresses(of: $0) }
    }

    /// The device's interfaces: `ADDR/net/IF`, or one level down (`ADDR/virtio0/net/IF`).
    public func interfaces(of address: PCIAddress) -> [(name: String, directory: String)] {
        let dir = "/sys/bus/pci/devices/\(address)"
        var found = sysfs.list(dir + "/net").map { (name: $0, directory: dir + "/net/" + $0) }
        for child in sysfs.list(dir) where sysfs.exists(dir + "/" + child + "/net") && child != "net" {
            found += sysfs.list(dir + "/" + child + "/net").map { (name: $0, directory: dir + "/" + child + "/net/" + $0) }
        }
        return found
    }

    /// The first interface in use and why, or nil when the device can be taken.
    public func firstInUse(_ address: PCIAddress) -> (interface: String, reasons: [String])? {
        let routes = routedInterfaces()
        for (name, directory) in interfaces(of: address) {
            var reasons: [String] = []
            if let count = routes[name] { reasons.append("\(count) IPv4 route\(count == 1 ? "" : "s") in /proc/net/route") }
            let operstate = (try? sysfs.read(directory + "/operstate")) ?? "unknown"
            let flags = (try? sysfs.readNumber(directory + "/flags")) ?? 0
            if operstate == "up" || flags & 1 != 0 {       // IFF_UP (linux/if.h)
                let addrs = addresses(name)
                if !addrs.isEmpty { reasons.append("up (operstate \(operstate)) with address \(addrs.joined(separator: ", "))") }
            }
            if !reasons.isEmpty { return (name, reasons) }
        }
        return nil
    }

    /// Interface name → number of IPv4 routes through it (`/proc/net/route`, header first).
    func routedInterfaces() -> [String: Int] {
        guard let text = try? sysfs.read("/proc/net/route") else { return [:] }
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            if let name = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first { counts[String(name), default: 0] += 1 }
        }
        return counts
    }

    /// `ip -o addr show dev IF scope global`: "2: eth0    inet 10.0.0.5/24 brd … scope global eth0 …".
    static func liveAddresses(of interface: String) -> [String] {
        guard let output = try? Shell.run("ip", ["-o", "addr", "show", "dev", interface, "scope", "global"]),
              output.status == 0 else { return [] }
        return parseIPAddr(output.stdout)
    }

    static func parseIPAddr(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let i = words.firstIndex(where: { $0 == "inet" || $0 == "inet6" }), i + 1 < words.count else { return nil }
            return String(words[i + 1])
        }
    }
}
