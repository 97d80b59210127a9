import Foundation

/// Polls `condition` every 0.2 s until it holds or `seconds` pass, and says whether it held: a
/// bound on waiting for real processes, never a timing assertion.
func eventually(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.2)
    }
    return condition()
}
