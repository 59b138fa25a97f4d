import ArgumentParser
import UIO

/// The hidden `--sysfs-root` every subcommand takes: it prefixes /sys, /dev and /proc, so that
/// tests (and anyone debugging a captured tree) can run against a fake tree.
struct SysfsOptions: ParsableArguments {
    @Option(name: .customLong("sysfs-root"), help: .hidden)
    var root: String = ""

    var sysfs: Sysfs { Sysfs(root: root) }
}
