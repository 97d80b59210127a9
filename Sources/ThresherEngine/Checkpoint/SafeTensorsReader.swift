/// Parses and validates a safetensors file held in memory.
///
/// Checks, in order, each failing with its own `SafeTensorsError`: the 8-byte length is present; the
/// header length is ≤ 100,000,000 and fits in the file; the header is UTF-8 JSON (trailing spaces,
/// the writer's padding, are allowed) whose top level is an object; `__metadata__`, if present, maps
/// strings to strings; every other member is a tensor entry with exactly `dtype`, `shape` (non-negative
/// integers) and `data_offsets` (two non-negative integers); names are unique; the dtype is known and
/// convertible; begin ≤ end ≤ buffer size; end − begin = element count × dtype size; and the byte
/// ranges, sorted, tile the data buffer exactly from 0 to its end (no overlap, no gap, no trailing
/// bytes) — the reference implementation's rules.
enum SafeTensorsReader {
    static let maxHeaderLength = 100_000_000

    private struct Entry {
        let name: String
        let dtype: SafeTensorsDType
        let shape: [Int]
        let begin: Int
        let end: Int
    }

    static func decode(_ bytes: [UInt8]) throws(SafeTensorsError) -> SafeTensorsFile {
        guard bytes.count >= 8 else { throw .truncatedHeaderLength(fileSize: bytes.count) }
        var length: UInt64 = 0
        for i in (0..<8).reversed() { length = length << 8 | UInt64(bytes[i]) }
        guard length <= UInt64(maxHeaderLength) else { throw .headerTooLarge(length: length, limit: maxHeaderLength) }
        let headerEnd = 8 + Int(length)
        guard headerEnd <= bytes.count else { throw .headerExceedsFile(length: length, available: bytes.count - 8) }
        let headerBytes = Array(bytes[8..<headerEnd])
        guard String(validating: headerBytes, as: UTF8.self) != nil else { throw .headerNotUTF8 }
        guard case .object(let members) = try HeaderJSON.parse(headerBytes) else { throw .headerNotObject }

        let bufferSize = bytes.count - headerEnd
        var metadata: [String: String] = [:]
        var sawMetadata = false
        var entries: [Entry] = []
        var names = Set<String>()
        for (name, value) in members {
            if name == "__metadata__" {
                guard !sawMetadata else { throw .duplicateName(name) }
                sawMetadata = true
                metadata = try parseMetadata(value)
                continue
            }
            guard names.insert(name).inserted else { throw .duplicateName(name) }
            entries.append(try parseEntry(name: name, value, bufferSize: bufferSize))
        }
        try checkTiling(entries, bufferSize: bufferSize)

        var tensors: [String: Tensor] = [:]
        try bytes.withTypedThrowingBytes { (raw: UnsafeRawBufferPointer) throws(SafeTensorsError) in
            for entry in entries {
                let count = (entry.end - entry.begin) / entry.dtype.size
                switch entry.dtype.decode(raw, start: headerEnd + entry.begin, count: count) {
                case .success(let storage):
                    guard let tensor = Tensor(shape: entry.shape, storage: storage) else {
                        throw .shapeTooLarge(name: entry.name, shape: entry.shape)  // unreachable: sizes checked
                    }
                    tensors[entry.name] = tensor
                case .failure(let element):
                    throw .inexactConversion(name: entry.name, index: element.index, dtype: entry.dtype.rawValue)
                }
            }
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    private static func parseMetadata(_ value: HeaderJSON) throws(SafeTensorsError) -> [String: String] {
        guard case .object(let members) = value else { throw .invalidMetadata(reason: "is \(value.kind), not an object") }
        var metadata: [String: String] = [:]
        for (key, value) in members {
            guard case .string(let text) = value else {
                throw .invalidMetadata(reason: "value of \"\(key)\" is \(value.kind), not a string")
            }
            guard metadata.updateValue(text, forKey: key) == nil else { throw .invalidMetadata(reason: "key \"\(key)\" appears twice") }
        }
        return metadata
    }

    private static func parseEntry(name: String, _ value: HeaderJSON, bufferSize: Int) throws(SafeTensorsError) -> Entry {
        guard case .object(let fields) = value else { throw .invalidTensorEntry(name: name, reason: "is \(value.kind), not an object") }
        var dtypeText: String?
        var shape: [Int]?
        var offsets: [Int]?
        for (key, field) in fields {
            switch key {
            case "dtype":
                guard dtypeText == nil else { throw .invalidTensorEntry(name: name, reason: "\"dtype\" appears twice") }
                guard case .string(let text) = field else { throw .invalidTensorEntry(name: name, reason: "\"dtype\" is \(field.kind), not a string") }
                dtypeText = text
            case "shape":
                guard shape == nil else { throw .invalidTensorEntry(name: name, reason: "\"shape\" appears twice") }
                shape = try unsignedIntegers(field, name: name, field: "shape")
            case "data_offsets":
                guard offsets == nil else { throw .invalidTensorEntry(name: name, reason: "\"data_offsets\" appears twice") }
                let pair = try unsignedIntegers(field, name: name, field: "data_offsets")
                guard pair.count == 2 else {
                    throw .invalidTensorEntry(name: name, reason: "\"data_offsets\" has \(pair.count) elements, not 2")
                }
                offsets = pair
            default:
                throw .invalidTensorEntry(name: name, reason: "unexpected field \"\(key)\"")
            }
        }
        guard let dtypeText else { throw .invalidTensorEntry(name: name, reason: "missing \"dtype\"") }
        guard let shape else { throw .invalidTensorEntry(name: name, reason: "missing \"shape\"") }
        guard let offsets else { throw .invalidTensorEntry(name: name, reason: "missing \"data_offsets\"") }
        guard let dtype = SafeTensorsDType(rawValue: dtypeText) else {
            if SafeTensorsDType.unsupported.contains(dtypeText) { throw .unsupportedDType(name: name, dtype: dtypeText) }
            throw .unknownDType(name: name, dtype: dtypeText)
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end, end <= bufferSize else {
            throw .offsetsOutOfRange(name: name, begin: begin, end: end, bufferSize: bufferSize)
        }
        var expected = dtype.size
        for dimension in shape {
            let (product, overflow) = expected.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw .shapeTooLarge(name: name, shape: shape) }
            expected = product
        }
        guard expected == end - begin else {
            throw .sizeMismatch(name: name, shape: shape, dtype: dtypeText, expectedBytes: expected, actualBytes: end - begin)
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    private static func unsignedIntegers(_ value: HeaderJSON, name: String, field: String) throws(SafeTensorsError) -> [Int] {
        guard case .array(let elements) = value else {
            throw .invalidTensorEntry(name: name, reason: "\"\(field)\" is \(value.kind), not an array")
        }
        var out: [Int] = []
        for element in elements {
            guard case .integer(let n) = element, n >= 0 else {
                throw .invalidTensorEntry(name: name, reason: "\"\(field)\" holds \(element.text), not a non-negative integer")
            }
            out.append(n)
        }
        return out
    }

    private static func checkTiling(_ entries: [Entry], bufferSize: Int) throws(SafeTensorsError) {
        let sorted = entries.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var covered = 0
        var previous: String?
        for entry in sorted {
            if entry.begin < covered, let previous { throw .overlappingTensors(previous, entry.name) }
            if entry.begin > covered { throw .gapInBuffer(offset: covered, next: entry.name) }
            covered = entry.end
            previous = entry.name
        }
        guard covered == bufferSize else { throw .bufferNotCovered(used: covered, bufferSize: bufferSize) }
    }
}

extension HeaderJSON {
    /// The value as it might be written, for error messages about numbers and short values.
    var text: String {
        switch self {
        case .integer(let n): String(n)
        case .number(let literal): literal
        case .string(let s): "\"\(s)\""
        case .bool(let b): String(b)
        default: kind
        }
    }
}
