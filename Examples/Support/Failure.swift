import ArgumentParser
import UIO
import VFIO

/// Runs an example's body; a `UIOError` becomes `error: <what to do>` on stderr and exit 1,
/// never a crash.
public func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as UIOError {
        Console.error("error: \(error)")
        throw ExitCode(1)
    } catch let error as VFIOError {
        Console.error("error: \(error)")
        throw ExitCode(1)
    }
}
