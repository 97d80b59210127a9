/// Why a safetensors file could not be read or written. Every malformed input maps to one case that
/// names the offending tensor, field or byte offset; nothing in a file can make the reader trap.
public enum SafeTensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer than the 8 bytes of the header length.
    case truncatedHeaderLength(fileSize: Int)
    /// The header length exceeds the 100,000,000-byte limit (the reference implementation's).
    case headerTooLarge(length: UInt64, limit: Int)
    /// The header length runs past the end of the file.
    case headerExceedsFile(length: UInt64, available: Int)
    /// The header bytes are not valid UTF-8.
    case headerNotUTF8
    /// The header is not well-formed JSON (offset in the header, from 0).
    case invalidJSON(offset: Int, reason: String)
    /// The header's top level is not a JSON object.
    case headerNotObject
    /// A tensor entry is not `{"dtype": string, "shape": [uint...], "data_offsets": [uint, uint]}`.
    case invalidTensorEntry(name: String, reason: String)
    /// `__metadata__` is not an object of string values.
    case invalidMetadata(reason: String)
    /// A tensor name appears twice (including two spellings Swift's `String` considers equal).
    case duplicateName(String)
    /// A dtype that is not a safetensors dtype.
    case unknownDType(name: String, dtype: String)
    /// A safetensors dtype Thresher does not convert (8-bit and smaller floats, complex).
    case unsupportedDType(name: String, dtype: String)
    /// The product of the shape, or its size in bytes, overflows.
    case shapeTooLarge(name: String, shape: [Int])
    /// `data_offsets` is decreasing or ends past the data buffer.
    case offsetsOutOfRange(name: String, begin: Int, end: Int, bufferSize: Int)
    /// The byte range's length is not the element count × the dtype's size.
    case sizeMismatch(name: String, shape: [Int], dtype: String, expectedBytes: Int, actualBytes: Int)
    /// Two tensors' byte ranges overlap.
    case overlappingTensors(String, String)
    /// Bytes of the data buffer before tensor `next` belong to no tensor.
    case gapInBuffer(offset: Int, next: String)
    /// The tensors end at `used` but the data buffer has `bufferSize` bytes.
    case bufferNotCovered(used: Int, bufferSize: Int)
    /// An element cannot be represented exactly as Float32 (integers beyond 2^24, F64 beyond Float32's range).
    case inexactConversion(name: String, index: Int, dtype: String)
    /// A tensor may not be called `__metadata__`.
    case reservedName
    /// A tensor the caller needs is not in the file.
    case missingTensor(String)
    /// A tensor the caller needs has another shape than expected.
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    /// A system call failed on `path` (`errno` as reported by the C library).
    case io(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case let .truncatedHeaderLength(size): return "safetensors: file of \(size) bytes is too short for the 8-byte header length"
        case let .headerTooLarge(length, limit): return "safetensors: header length \(length) exceeds the limit of \(limit) bytes"
        case let .headerExceedsFile(length, available): return "safetensors: header length \(length) exceeds the \(available) bytes after it"
        case .headerNotUTF8: return "safetensors: header is not valid UTF-8"
        case let .invalidJSON(offset, reason): return "safetensors: header is not valid JSON at byte \(offset): \(reason)"
        case .headerNotObject: return "safetensors: header is not a JSON object"
        case let .invalidTensorEntry(name, reason): return "safetensors: tensor \"\(name)\": \(reason)"
        case let .invalidMetadata(reason): return "safetensors: __metadata__: \(reason)"
        case let .duplicateName(name): return "safetensors: tensor name \"\(name)\" appears twice"
        case let .unknownDType(name, dtype): return "safetensors: tensor \"\(name)\" has unknown dtype \"\(dtype)\""
        case let .unsupportedDType(name, dtype): return "safetensors: tensor \"\(name)\" has dtype \(dtype), which Thresher does not read"
        case let .shapeTooLarge(name, shape): return "safetensors: tensor \"\(name)\" shape \(shape) is too large"
        case let .offsetsOutOfRange(name, begin, end, size):
            return "safetensors: tensor \"\(name)\" data_offsets [\(begin), \(end)] are out of the \(size)-byte buffer"
        case let .sizeMismatch(name, shape, dtype, expected, actual):
            return "safetensors: tensor \"\(name)\" of shape \(shape) and dtype \(dtype) needs \(expected) bytes, data_offsets give \(actual)"
        case let .overlappingTensors(a, b): return "safetensors: tensors \"\(a)\" and \"\(b)\" overlap"
        case let .gapInBuffer(offset, next): return "safetensors: bytes from \(offset) up to tensor \"\(next)\" belong to no tensor"
        case let .bufferNotCovered(used, size): return "safetensors: tensors cover \(used) of the buffer's \(size) bytes"
        case let .inexactConversion(name, index, dtype):
            return "safetensors: tensor \"\(name)\" element \(index) (\(dtype)) is not exactly representable as Float32"
        case .reservedName: return "safetensors: a tensor may not be named \"__metadata__\""
        case let .missingTensor(name): return "safetensors: no tensor named \"\(name)\""
        case let .shapeMismatch(name, expected, found): return "safetensors: tensor \"\(name)\" has shape \(found), expected \(expected)"
        case let .io(path, operation, code): return "safetensors: \(operation) \(path) failed (errno \(code))"
        }
    }
}
