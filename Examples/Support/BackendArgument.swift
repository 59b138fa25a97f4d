import ArgumentParser
import UIODevices

// `--backend auto|uio|vfio` on every example; the library itself does not know ArgumentParser.
extension Backend: ExpressibleByArgument {}
