import Foundation

/// Pretrained word vectors in GloVe's text format: one word a line, `word v1 v2 … vD`, fields
/// separated by single spaces, no header. The file may be gzip-compressed (detected by its magic
/// bytes, so a `.gz` name is not required).
///
/// Guarantees:
/// - every kept row has exactly D finite values, D taken from the first line; any other line is a
///   `DatasetError.file` naming the path and 1-based line (an empty line is skipped; a trailing
///   `\r` or trailing spaces are tolerated, because hand-edited and Windows copies have them);
/// - row i of `matrix` [V, D] is the vector of `words[i]`, rows in file order;
/// - a word that appears again later is ignored (the first occurrence wins, as in a Python dict
///   filled with `setdefault`) and counted in `duplicateCount`; its line is still validated;
/// - with `limit`, reading stops after `limit` distinct words (GloVe files are sorted by frequency,
///   so this keeps the most frequent words).
public struct WordVectors: Sendable, Equatable {
    /// The words, in file order; `words[i]` owns row i of `matrix`.
    public let words: [String]
    /// Values per word (D).
    public let dimension: Int
    /// [V, D], row-major.
    public let matrix: Tensor
    /// Lines skipped because their word had already been read.
    public let duplicateCount: Int
    private let indexByWord: [String: Int]

    /// Reads `path` (plain or gzip). `limit` must be nil or positive.
    public init(path: String, limit: Int? = nil) throws(DatasetError) {
        try self.init(bytes: try Self.fileBytes(path), path: path, limit: limit)
    }

    /// Parses file contents already in memory (plain or gzip); `path` is used in error messages only.
    public init(bytes input: [UInt8], path: String, limit: Int? = nil) throws(DatasetError) {
        if let limit, limit < 1 { throw .invalid("word vector limit must be positive, got \(limit)") }
        var bytes = input
        if Gzip.isGzip(bytes) {
            do { bytes = try Gzip.decompress(bytes) } catch { throw .file(path: path, line: nil, message: "\(error)") }
        }
        var words: [String] = []
        var index: [String: Int] = [:]
        var storage: [Float] = []
        var dimension = 0
        var duplicates = 0
        var lineNumber = 0
        var start = 0
        var fields: [Range<Int>] = []
        while start < bytes.count {
            if let limit, words.count >= limit { break }
            lineNumber += 1
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            let lineStart = start
            start = end + 1
            var stop = end
            while stop > lineStart, bytes[stop - 1] == 0x0D || bytes[stop - 1] == 0x20 { stop -= 1 }
            if stop == lineStart { continue }
            // Split on single spaces; an empty field (two spaces in a row, a leading space) is an error
            // rather than silently merged, since it usually means a word containing a space.
            fields.removeAll(keepingCapacity: true)
            var fieldStart = lineStart
            for i in lineStart...stop where i == stop || bytes[i] == 0x20 {
                fields.append(fieldStart..<i)
                fieldStart = i + 1
            }
            if fields.contains(where: \.isEmpty) {
                throw .file(path: path, line: lineNumber, message: "empty field (fields must be separated by single spaces)")
            }
            let values = fields.count - 1
            if dimension == 0 {
                guard values >= 1 else { throw .file(path: path, line: lineNumber, message: "a word with no values") }
                dimension = values
            } else if values != dimension {
                throw .file(path: path, line: lineNumber, message: "\(values) values, expected \(dimension) (from line 1)")
            }
            let word = String(decoding: bytes[fields[0]], as: UTF8.self)
            let isDuplicate = index[word] != nil
            for (k, range) in fields.dropFirst().enumerated() {
                guard let v = Self.parseFloat(bytes[range]), v.isFinite else {
                    let text = String(decoding: bytes[range].prefix(40), as: UTF8.self)
                    throw .file(path: path, line: lineNumber, message: "value \(k + 1) of \"\(word)\" is not a finite number: \"\(text)\"")
                }
                if !isDuplicate { storage.append(v) }
            }
            if isDuplicate { duplicates += 1; continue }
            index[word] = words.count
            words.append(word)
        }
        guard !words.isEmpty else { throw .file(path: path, line: nil, message: "no word vectors") }
        guard let matrix = Tensor(shape: [words.count, dimension], storage: storage) else {
            throw .invalid("internal: word vector storage does not match [\(words.count), \(dimension)]")
        }
        self.words = words
        self.dimension = dimension
        self.matrix = matrix
        self.duplicateCount = duplicates
        self.indexByWord = index
    }

    /// Number of words (V).
    public var count: Int { words.count }

    /// The row of `word`, or nil when it is out of vocabulary. Exact match (no case folding).
    public func index(of word: String) -> Int? { indexByWord[word] }

    /// The vector of row `index` (0..<count).
    public func vector(at index: Int) -> ArraySlice<Float> {
        matrix.storage[(index * dimension)..<((index + 1) * dimension)]
    }

    /// Strict decimal float: optional sign, digits with optional fraction, optional exponent.
    /// Words such as "nan", "inf" or hex floats are rejected (Swift's `Float(String)` accepts them).
    static func parseFloat(_ field: ArraySlice<UInt8>) -> Float? {
        var sawDigit = false
        var i = field.startIndex
        if i < field.endIndex, field[i] == UInt8(ascii: "-") || field[i] == UInt8(ascii: "+") { i += 1 }
        while i < field.endIndex, WordTokenizer.isDigit(field[i]) { i += 1; sawDigit = true }
        if i < field.endIndex, field[i] == UInt8(ascii: ".") {
            i += 1
            while i < field.endIndex, WordTokenizer.isDigit(field[i]) { i += 1; sawDigit = true }
        }
        guard sawDigit else { return nil }
        if i < field.endIndex, field[i] == UInt8(ascii: "e") || field[i] == UInt8(ascii: "E") {
            i += 1
            if i < field.endIndex, field[i] == UInt8(ascii: "-") || field[i] == UInt8(ascii: "+") { i += 1 }
            var expDigit = false
            while i < field.endIndex, WordTokenizer.isDigit(field[i]) { i += 1; expDigit = true }
            guard expDigit else { return nil }
        }
        guard i == field.endIndex else { return nil }
        // The grammar is checked above, so C's strtof (no String allocation per value: a 300-d
        // GloVe file has 120 million of them) sees exactly one decimal number. Swift programs run
        // in the "C" locale unless they call setlocale, so '.' is the decimal point.
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: field.count + 1) { buffer -> Float? in
            guard let base = buffer.baseAddress else { return nil }
            var j = 0
            for b in field { buffer[j] = CChar(bitPattern: b); j += 1 }
            buffer[j] = 0
            return strtof(base, nil)
        }
    }

    /// The whole file, as `DatasetError.file` on failure.
    static func fileBytes(_ path: String) throws(DatasetError) -> [UInt8] {
        do { return try AtomicFile.contents(of: path) } catch {
            if case .io(_, let operation, let code) = error {
                throw .file(path: path, line: nil, message: "cannot \(operation): \(String(cString: strerror(code)))")
            }
            throw .file(path: path, line: nil, message: "\(error)")
        }
    }
}
