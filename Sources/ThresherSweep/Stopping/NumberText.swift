/// Numbers in summaries and warnings as a person writes them: `3` for 3.0, `2.5` for 2.5.
enum NumberText {
    static func plain(_ x: Double) -> String {
        x.isFinite && x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
    }
}
