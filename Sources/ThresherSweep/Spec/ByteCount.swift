import Foundation

/// Parses a byte count as a sweep file writes it: `2GB`, `500MiB`, `1.5 GB`, `1048576`.
///
/// Units (case-insensitive, optional space before the unit): `B`; decimal `KB` `MB` `GB` `TB`
/// `PB` (powers of 1000); binary `KiB` `MiB` `GiB` `TiB` `PiB` (powers of 1024). A bare number
/// is bytes. Fractions are allowed with a unit and rounded down to whole bytes; the result must
/// be positive and fit in `Int64`. Single-letter units (`G`, `M`) are rejected as ambiguous.
public enum ByteCount {
    /// Accepted units and their sizes, for parsing and for messages.
    public static let units: [(name: String, bytes: Double)] = [
        ("B", 1),
        ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("PB", 1e15),
        ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
        ("PiB", 1_125_899_906_842_624),
    ]

    /// Why a text is not a byte count.
    public enum Failure: Error, Sendable, Hashable {
        case malformed
        case unknownUnit(String)
        case notPositive
        case tooLarge
    }

    /// The number of bytes `text` denotes.
    public static func parse(_ text: String) -> Result<Int64, Failure> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let numberPart = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == "." || $0 == "_") }
        let unitPart = trimmed.dropFirst(numberPart.count).trimmingCharacters(in: .whitespaces)
        guard let number = Double(numberPart.replacingOccurrences(of: "_", with: "")), number.isFinite else {
            return .failure(.malformed)
        }
        let multiplier: Double
        if unitPart.isEmpty {
            guard number.rounded() == number else { return .failure(.malformed) }
            multiplier = 1
        } else if let unit = units.first(where: { $0.name.lowercased() == unitPart.lowercased() }) {
            multiplier = unit.bytes
        } else {
            return .failure(.unknownUnit(unitPart))
        }
        let bytes = (number * multiplier).rounded(.down)
        guard bytes >= 1 else { return .failure(.notPositive) }
        guard bytes < 9.2e18 else { return .failure(.tooLarge) }
        return .success(Int64(bytes))
    }
}
