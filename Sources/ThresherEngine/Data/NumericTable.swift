import Foundation

/// Why a numeric CSV table could not be read. Every case names the file; line numbers are
/// 1-based lines of the (decompressed) text, columns 1-based fields.
public enum NumericTableError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case gzip(file: String, GzipError)
    /// Not UTF-8 text.
    case notText(file: String)
    /// No data rows (an empty file, or a header only).
    case empty(file: String)
    /// A row with a different number of fields from the first row.
    case raggedRow(file: String, line: Int, expected: Int, found: Int)
    /// A field that is not a finite number.
    case nonNumeric(file: String, line: Int, column: Int, text: String)
    /// A label value that is not an integer.
    case nonIntegralLabel(file: String, line: Int, column: Int, text: String)
    /// The label column name is not in the header (or there is no header).
    case unknownLabelColumn(file: String, name: String)
    /// The label column index is outside the row.
    case labelColumnOutOfRange(file: String, index: Int, columns: Int)
    /// A table needs at least one feature column beside the label.
    case noFeatures(file: String)

    public var description: String {
        switch self {
        case .unreadable(let f, let r): return "\(f): cannot read: \(r)"
        case .gzip(let f, let e): return "\(f): \(e)"
        case .notText(let f): return "\(f): not UTF-8 text"
        case .empty(let f): return "\(f): no data rows"
        case .raggedRow(let f, let l, let e, let n): return "\(f):\(l): expected \(e) fields, found \(n)"
        case .nonNumeric(let f, let l, let c, let t): return "\(f):\(l): column \(c): not a number: \"\(t)\""
        case .nonIntegralLabel(let f, let l, let c, let t): return "\(f):\(l): column \(c): label is not an integer: \"\(t)\""
        case .unknownLabelColumn(let f, let n): return "\(f): no column named \"\(n)\" in the header"
        case .labelColumnOutOfRange(let f, let i, let c): return "\(f): label column \(i) is outside the \(c) columns"
        case .noFeatures(let f): return "\(f): the table has no feature columns beside the label"
        }
    }
}

/// Which column holds the class label.
public enum LabelColumn: Sendable, Hashable {
    case last
    /// 0-based column index.
    case index(Int)
    /// A header name (the file must have a header row).
    case name(String)
}

/// A numeric classification table: features [N, F] Float32 and class indices in 0..<C.
///
/// Guarantees: `features.shape == [labels.count, featureNames.count]`; every label is in
/// `0..<classValues.count`; `classValues` is sorted ascending and `classValues[k]` is the file's
/// label value that became class k.
public struct NumericTable: Sendable, Equatable {
    public let features: Tensor
    public let labels: [Int]
    /// The original label value of each class index, ascending.
    public let classValues: [Int]
    /// Header names of the feature columns, or `column1`… (1-based) when the file has no header.
    public let featureNames: [String]
    public let hadHeader: Bool

    public var rowCount: Int { labels.count }
    public var featureCount: Int { featureNames.count }
    public var classCount: Int { classValues.count }

    public init(features: Tensor, labels: [Int], classValues: [Int], featureNames: [String], hadHeader: Bool) {
        self.features = features
        self.labels = labels
        self.classValues = classValues
        self.featureNames = featureNames
        self.hadHeader = hadHeader
    }

}

/// Reads numeric CSV tables, plain or gzip-compressed (detected by the magic bytes, not the name).
///
/// Format: comma-separated fields, surrounding spaces ignored, blank lines skipped, `\n` or `\r\n`
/// line ends; no quoting. A first row whose fields are not all numbers is a header. Every other
/// row must have as many fields as the first and every field must be a finite number; the label
/// field must be integral. Distinct label values map to 0..<C in ascending order.
public struct CSVTableReader: Sendable {
    public var labelColumn: LabelColumn
    public var sizeLimit: Int

    public init(labelColumn: LabelColumn = .last, sizeLimit: Int = Gzip.defaultLimit) {
        self.labelColumn = labelColumn
        self.sizeLimit = sizeLimit
    }

    public func read(path: String) throws(NumericTableError) -> NumericTable {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .unreadable(file: path, reason: error.localizedDescription)
        }
        return try parse(bytes: bytes, file: path)
    }

    /// Parses file contents; `file` names the source in errors.
    public func parse(bytes: [UInt8], file: String) throws(NumericTableError) -> NumericTable {
        var raw = bytes
        if Gzip.isGzip(bytes) {
            do { raw = try Gzip.decompress(bytes, limit: sizeLimit) } catch { throw .gzip(file: file, error) }
        }
        guard let text = String(validating: raw, as: UTF8.self) else { throw .notText(file: file) }
        return try parse(text: text, file: file)
    }

    public func parse(text: String, file: String) throws(NumericTableError) -> NumericTable {
        var header: [String]?
        var width = 0
        var rows: [[Double]] = []
        var labelIndex = -1
        var lineNumber = 0
        // "\r\n" is one Character in Swift, so both line ends are separators.
        for lineSub in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            var line = lineSub
            if line.last == "\r" { line = line.dropLast() }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if width == 0 {
                width = fields.count
                let isHeader = fields.contains { Self.number($0) == nil }
                if isHeader { header = fields }
                labelIndex = try resolveLabel(header: header, columns: width, file: file)
                if width < 2 { throw .noFeatures(file: file) }
                if isHeader { continue }
            }
            guard fields.count == width else {
                throw .raggedRow(file: file, line: lineNumber, expected: width, found: fields.count)
            }
            var row = [Double]()
            row.reserveCapacity(width)
            for (c, field) in fields.enumerated() {
                guard let v = Self.number(field) else {
                    throw .nonNumeric(file: file, line: lineNumber, column: c + 1, text: field)
                }
                row.append(v)
            }
            guard row[labelIndex].rounded() == row[labelIndex], abs(row[labelIndex]) < 1e15 else {
                throw .nonIntegralLabel(file: file, line: lineNumber, column: labelIndex + 1, text: fields[labelIndex])
            }
            rows.append(row)
        }
        guard !rows.isEmpty else { throw .empty(file: file) }

        let featureColumns = (0..<width).filter { $0 != labelIndex }
        let rawLabels = rows.map { Int($0[labelIndex]) }
        let classValues = Array(Set(rawLabels)).sorted()
        var classOf: [Int: Int] = [:]
        for (k, v) in classValues.enumerated() { classOf[v] = k }
        var storage = [Float]()
        storage.reserveCapacity(rows.count * featureColumns.count)
        for row in rows { for c in featureColumns { storage.append(Float(row[c])) } }
        let names = featureColumns.map { header?[$0] ?? "column\($0 + 1)" }
        let features = Tensor(shape: [rows.count, featureColumns.count], storage: storage)
            ?? Tensor(zeros: [rows.count, featureColumns.count])
        return NumericTable(features: features, labels: rawLabels.map { classOf[$0] ?? 0 },
                            classValues: classValues, featureNames: names, hadHeader: header != nil)
    }

    private func resolveLabel(header: [String]?, columns: Int, file: String) throws(NumericTableError) -> Int {
        switch labelColumn {
        case .last: return columns - 1
        case .index(let i):
            guard i >= 0 && i < columns else { throw .labelColumnOutOfRange(file: file, index: i, columns: columns) }
            return i
        case .name(let name):
            guard let i = header?.firstIndex(of: name) else { throw .unknownLabelColumn(file: file, name: name) }
            return i
        }
    }

    /// A finite decimal number, or nil.
    static func number(_ field: String) -> Double? {
        guard !field.isEmpty, let v = Double(field), v.isFinite else { return nil }
        return v
    }
}
