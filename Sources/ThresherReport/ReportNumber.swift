import Foundation

/// Number texts for the report: metric values with four significant digits, byte counts with
/// binary units, durations in h/m/s, SVG coordinates with one decimal.
public enum ReportNumber {
    /// `0.0123`, `1.235e+06`, `nan`: four significant digits, trailing zeros dropped.
    public static func text(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        if value == value.rounded(), abs(value) < 1e9 { return String(Int64(value)) }
        return String(format: "%.4g", value)
    }

    /// `512 B`, `1.5 KiB`, `10.0 MiB`.
    public static func bytes(_ value: Int64) -> String { byteAmount(Double(value)) }

    /// The same for a byte count held as a Double (an axis tick); `-` when not finite.
    public static func byteAmount(_ value: Double) -> String {
        guard value.isFinite else { return "-" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var amount = value, unit = 0
        while abs(amount) >= 1024, unit < units.count - 1 { amount /= 1024; unit += 1 }
        return unit == 0 ? "\(Int64(amount.rounded())) B" : String(format: "%.1f ", amount) + units[unit]
    }

    /// `2h 03m`, `4m 05s`, `12s`.
    public static func duration(_ seconds: Double) -> String {
        // Beyond ~3 million years a stored time is corrupt; say so rather than overflow an Int.
        guard seconds.isFinite, seconds >= 0, seconds < 1e14 else { return "-" }
        // Axis ticks under a minute can fall between whole seconds.
        if seconds < 60, seconds != seconds.rounded() { return String(format: "%.1fs", seconds) }
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh %02dm", s / 3600, (s % 3600) / 60) }
        if s >= 60 { return String(format: "%dm %02ds", s / 60, s % 60) }
        return "\(s)s"
    }

    /// `1.7%`, `0.03%`: a share with two significant digits; `-` when not finite.
    public static func percent(_ fraction: Double) -> String {
        guard fraction.isFinite else { return "-" }
        return String(format: "%.2g%%", fraction * 100)
    }

    /// An SVG coordinate: one decimal, never NaN or infinite (callers drop such points first;
    /// this clamps anything that slips through so the SVG stays valid).
    public static func coordinate(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let clamped = min(max(value, -1e6), 1e6)
        let tenths = (clamped * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? String(Int64(tenths / 10)) : String(format: "%.1f", tenths / 10)
    }

    /// A UTC time, `2026-11-23 20:38:12 UTC`.
    public static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: date)
    }
}
