import Foundation
import UIO

/// The files `uioctl udev install` writes, and where. `uninstall` removes the same ones.
public struct UdevInstallation {
    /// One file that `uioctl udev install` writes: its path, mode and contents.
    public struct File: Equatable {
        public let path: String
        public let contents: String
        public let mode: mode_t
    }

    public var rulesDirectory = "/etc/udev/rules.d"
    public var helperPath = UdevRules.defaultHelperPath
    public var configPath = UdevConfig.installedPath

    public init(rulesDirectory: String = "/etc/udev/rules.d", helperPath: String = UdevRules.defaultHelperPath,
                configPath: String = UdevConfig.installedPath) {
        self.rulesDirectory = rulesDirectory
        self.helperPath = helperPath
        self.configPath = configPath
    }

    public var rulesPath: String { rulesDirectory + "/" + UdevRules.fileName }

    /// The config (as the user wrote it), the helper and the generated rules.
    public func files(config: UdevConfig, configText: String) -> [File] {
        [
            File(path: configPath, contents: configText, mode: 0o644),
            File(path: helperPath, contents: UdevHelperScript.text, mode: 0o755),
            File(path: rulesPath, contents: UdevRules.generate(config, helperPath: helperPath, configPath: configPath), mode: 0o644),
        ]
    }

    public func write(_ files: [File]) throws {
        for file in files {
            let directory = (file.path as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let temporary = file.path + ".tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: Data(file.contents.utf8)) else {
                throw systemError("create", path: temporary)
            }
            guard chmod(temporary, file.mode) == 0 else { throw systemError("chmod", path: temporary) }
            guard rename(temporary, file.path) == 0 else { throw systemError("rename", path: file.path) }
        }
    }

    /// Removes what `install` wrote; returns the paths that existed.
    public func remove() -> [String] {
        [rulesPath, helperPath, configPath].filter { path in
            FileManager.default.fileExists(atPath: path) && (try? FileManager.default.removeItem(atPath: path)) != nil
        }
    }
}
