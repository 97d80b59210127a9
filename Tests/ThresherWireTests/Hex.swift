import Foundation

/// Hex text <-> bytes for golden files and failure messages.
extension Array where Element == UInt8 {
    /// Parses hex digits, ignoring whitespace and lines starting with `#`. Nil on anything else.
    init?(hexText: String) {
        var digits: [UInt8] = []
        for line in hexText.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            for character in line where !character.isWhitespace {
                guard let value = character.hexDigitValue else { return nil }
                digits.append(UInt8(value))
            }
        }
        guard digits.count.isMultiple(of: 2) else { return nil }
        self = stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
    }

    /// Lowercase hex, `perLine` bytes per line, in groups of four bytes.
    func hexLines(perLine: Int = 16) -> String {
        stride(from: 0, to: count, by: perLine).map { start in
            let line = self[start..<Swift.min(start + perLine, count)]
            return stride(from: line.startIndex, to: line.endIndex, by: 4).map { group in
                line[group..<Swift.min(group + 4, line.endIndex)].map { byte in
                    let text = String(byte, radix: 16)
                    return byte < 16 ? "0" + text : text
                }.joined()
            }.joined(separator: " ")
        }.joined(separator: "\n")
    }

    /// Compact lowercase hex on one line.
    var hex: String { hexLines(perLine: Swift.max(count, 1)).replacingOccurrences(of: " ", with: "") }
}
