import ArgumentParser
import Foundation
import UIO
import VFIO
import UIOSetup

/// `uioctl`: inspect and prepare a host for swift-uio drivers.
///
/// `list`, `doctor` and `status` only read. `hugepages`, `bind`, `unbind` and `udev` change the
/// host, and need root.
@main
struct UIOCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uioctl",
        abstract: "Inspect PCI network devices and the host setup that swift-uio needs.",
        subcommands: [ListCommand.self, DoctorCommand.self, StatusCommand.self, HugepagesCommand.self,
                      BindCommand.self, UnbindCommand.self, UdevCommand.self])

    /// ArgumentParser's own `main()` would print a `UIOError` as "Error: …" and exit 1. We want
    /// the error's own text, which already says what to do, and a sysexits(3) code.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as UIOError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            Foundation.exit(error.exitCode)
        } catch let error as BindingError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            Foundation.exit(error.exitCode)
        } catch let error as VFIOError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            Foundation.exit(error.exitCode)
        } catch let error as UdevConfigError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            Foundation.exit(65)  // EX_DATAERR
        } catch {
            exit(withError: error)
        }
    }
}

extension VFIOError {
    var exitCode: Int32 {
        switch self {
        case .noIOMMUGroup, .notBoundToVFIO, .groupNotViable, .noType1v2: return 69  // EX_UNAVAILABLE
        case .groupPermissionDenied, .memlockLimit: return 77  // EX_NOPERM
        case .groupBusy: return 75  // EX_TEMPFAIL
        case .ioctl: return 1
        }
    }
}

extension UIOError {
    /// sysexits(3) codes, so that scripts can tell a typo from a missing device.
    var exitCode: Int32 {
        switch self {
        case .invalidPCIAddress: return 64  // EX_USAGE
        case .noSuchDevice, .notBoundToUIO, .noHugepages: return 69  // EX_UNAVAILABLE
        case .permissionDenied, .pagemapNeedsCapSysAdmin: return 77  // EX_NOPERM
        default: return 1
        }
    }
}
