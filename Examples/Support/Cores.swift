import UIO

/// `--cores 0,1`: a comma-separated list of core numbers.
public func parseCores(_ text: String?) throws -> [Int] {
    guard let text, !text.isEmpty else { return [] }
    let cores = text.split(separator: ",").map { Int($0.trimmingCharacters()) }
    guard cores.allSatisfy({ $0 != nil && $0! >= 0 }) else {
        throw UIOError.device("--cores '\(text)' is not a list of core numbers such as 0,1")
    }
    return cores.map { $0! }
}

extension Substring {
    fileprivate func trimmingCharacters() -> Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
