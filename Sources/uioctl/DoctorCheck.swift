/// One line of `uioctl doctor`: a verdict, what was found, and how to fix it.
struct DoctorCheck {
    enum Verdict: String {
        case ok = "OK"
        case warn = "WARN"
        case fail = "FAIL"
    }

    let verdict: Verdict
    let finding: String
    let fix: String?

    static func ok(_ finding: String) -> DoctorCheck { DoctorCheck(verdict: .ok, finding: finding, fix: nil) }
    static func warn(_ finding: String, fix: String? = nil) -> DoctorCheck { DoctorCheck(verdict: .warn, finding: finding, fix: fix) }
    static func fail(_ finding: String, fix: String) -> DoctorCheck { DoctorCheck(verdict: .fail, finding: finding, fix: fix) }

    var rendered: String {
        let head = verdict.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0) + finding
        guard let fix else { return head }
        return head + "\n      fix: " + fix
    }
}
