import Glibc
import UIO

/// Why `uioctl bind`, `unbind` or `udev install` refused or failed. Each says what to do.
public enum BindingError: Error, Equatable, CustomStringConvertible {
    case alreadyBound(PCIAddress, driver: String)
    case notBoundToUIO(PCIAddress, driver: String?)
    case needsRoot(String, path: String)
    case moduleUnavailable(String, detail: String)
    case inUse(PCIAddress, interface: String, reasons: [String])
    case didNotBind(PCIAddress, wanted: String, driver: String?)

    public var description: String {
        switch self {
        case .alreadyBound(let address, let driver):
            return "\(address) is already bound to \(driver): nothing to do (`uioctl unbind \(address)` gives it back to its kernel driver)"
        case .notBoundToUIO(let address, let driver):
            return "\(address) is not bound to a UIO driver (\(driver.map { "its driver is '\($0)'" } ?? "it has no driver")): nothing to unbind"
        case .needsRoot(let what, let path):
            return "permission denied on \(path): \(what) needs root; run it with sudo. (Group access from `uioctl udev install` lets a group use a bound device, not bind one.)"
        case .moduleUnavailable(let module, let detail):
            return "kernel module \(module) is not available (\(detail)): install it (Debian: linux-image-$(uname -r) ships it; some cloud kernels need linux-modules-extra) and check `modprobe \(module)`"
        case .inUse(let address, let interface, let reasons):
            return "\(address) carries network interface \(interface), which is in use (\(reasons.joined(separator: "; "))): taking it away would cut that traffic, your SSH session included if it runs there. Bring \(interface) down first, or pass --force"
        case .didNotBind(let address, let wanted, let driver):
            return "\(address) did not bind to \(wanted) (its driver is now \(driver.map { "'\($0)'" } ?? "none")): see `dmesg | tail`"
        }
    }

    /// sysexits(3) codes, as `uioctl` uses for `UIOError`.
    public var exitCode: Int32 {
        switch self {
        case .needsRoot: return 77            // EX_NOPERM
        case .moduleUnavailable: return 69    // EX_UNAVAILABLE
        case .inUse: return 75                // EX_TEMPFAIL: fine once the interface is down
        case .alreadyBound, .notBoundToUIO, .didNotBind: return 1
        }
    }
}

/// The errno of a failed call on `path` as a `UIOError` (as the core's own mapping does).
func systemError(_ call: String, path: String, errno code: Int32 = errno) -> UIOError {
    code == EACCES || code == EPERM ? .permissionDenied(path: path) : .systemCall(call, path: path, errno: code)
}
