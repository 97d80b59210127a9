/// Everything that can go wrong while encoding or decoding a ThresherWire frame.
///
/// Guarantees: decoding never traps on any input; every rejection is one of these cases, and
/// `description` is a plain sentence that says what was wrong and, where it helps, what to do.
/// Cases carry only small values (no payload bytes), so errors are cheap to log and compare.
public enum WireError: Error, Hashable, Sendable, CustomStringConvertible {
    // MARK: Frame level

    /// The input ended before a field was complete: `needed` bytes were required where only
    /// `available` remained (a short header, a short payload, or a length prefix past the end).
    case truncated(needed: Int, available: Int)
    /// The first four bytes are not `"THRW"`: the peer is not speaking ThresherWire.
    case badMagic(UInt32)
    /// The frame's major version is not 1. Minor versions are always accepted.
    case unsupportedVersion(major: UInt8, minor: UInt8)
    /// The header's message type byte names no message of this protocol version.
    case unknownMessageType(UInt8)
    /// A flag bit other than bit 0 (compressed) is set.
    case unknownFlags(UInt8)
    /// The header declares a frame larger than `WireLimits.maxFrameBytes`, or the encoder was
    /// asked to produce one. `byteCount` includes the 16-byte header.
    case frameTooLarge(byteCount: UInt64, limit: Int)
    /// The CRC32C stored in the header does not match the header and payload received.
    case checksumMismatch(expected: UInt32, actual: UInt32)
    /// Bytes remain after the end of the frame, or after a payload's extension block.
    case trailingBytes(count: Int)

    // MARK: Compression

    /// A compressed payload declares an uncompressed size over `WireLimits.maxDecompressedBytes`.
    case decompressedTooLarge(declared: UInt64, limit: Int)
    /// zstd rejected the compressed payload; `reason` is zstd's own error name.
    case decompressionFailed(reason: String)
    /// The zstd data decompressed to a different size than the payload declared.
    case decompressedSizeMismatch(declared: Int, actual: Int)

    // MARK: Payload fields

    /// A string field is not valid UTF-8.
    case invalidUTF8(field: String)
    /// A boolean or presence byte is neither 0 nor 1.
    case invalidBool(field: String, value: UInt8)
    /// An enumeration or tag byte has no meaning in this protocol version.
    case unknownEnumValue(field: String, value: UInt8)
    /// An element count promises more elements than the remaining bytes could possibly hold.
    case countExceedsInput(field: String, count: UInt32, remaining: Int)
    /// A `ParamValue` map repeats a key.
    case duplicateMapKey(String)
    /// `ParamValue` lists and maps are nested deeper than `WireLimits.maxNesting`.
    case nestingTooDeep(limit: Int)
    /// A metric record refers to a name index outside the batch's name table.
    case metricNameIndexOutOfRange(index: UInt32, nameCount: Int)
    /// A value is too large to be represented on the wire (a length over 2^32 - 1).
    case valueTooLarge(field: String, count: Int)

    /// Every `reasonName`, from one value of each case (so the names come from the same switch):
    /// the metrics endpoint reports each at 0 before its first occurrence.
    public static let reasonNames: [String] = [
        WireError.truncated(needed: 0, available: 0), .badMagic(0), .unsupportedVersion(major: 0, minor: 0),
        .unknownMessageType(0), .unknownFlags(0), .frameTooLarge(byteCount: 0, limit: 0), .checksumMismatch(expected: 0, actual: 0),
        .trailingBytes(count: 0), .decompressedTooLarge(declared: 0, limit: 0), .decompressionFailed(reason: ""),
        .decompressedSizeMismatch(declared: 0, actual: 0), .invalidUTF8(field: ""), .invalidBool(field: "", value: 0),
        .unknownEnumValue(field: "", value: 0), .countExceedsInput(field: "", count: 0, remaining: 0), .duplicateMapKey(""),
        .nestingTooDeep(limit: 0), .metricNameIndexOutOfRange(index: 0, nameCount: 0), .valueTooLarge(field: "", count: 0),
    ].map(\.reasonName)

    /// A short, stable name for the case (`"checksumMismatch"`, `"truncated"`, ...), without
    /// its values: suitable as a metrics label or a log key.
    public var reasonName: String {
        switch self {
        case .truncated: "truncated"
        case .badMagic: "badMagic"
        case .unsupportedVersion: "unsupportedVersion"
        case .unknownMessageType: "unknownMessageType"
        case .unknownFlags: "unknownFlags"
        case .frameTooLarge: "frameTooLarge"
        case .checksumMismatch: "checksumMismatch"
        case .trailingBytes: "trailingBytes"
        case .decompressedTooLarge: "decompressedTooLarge"
        case .decompressionFailed: "decompressionFailed"
        case .decompressedSizeMismatch: "decompressedSizeMismatch"
        case .invalidUTF8: "invalidUTF8"
        case .invalidBool: "invalidBool"
        case .unknownEnumValue: "unknownEnumValue"
        case .countExceedsInput: "countExceedsInput"
        case .duplicateMapKey: "duplicateMapKey"
        case .nestingTooDeep: "nestingTooDeep"
        case .metricNameIndexOutOfRange: "metricNameIndexOutOfRange"
        case .valueTooLarge: "valueTooLarge"
        }
    }

    public var description: String {
        switch self {
        case let .truncated(needed, available):
            "frame truncated: needed \(needed) more byte(s) but only \(available) remain; "
                + "the sender or transport cut the message short"
        case let .badMagic(value):
            "bad magic 0x\(hex(value, width: 8)): expected \"THRW\" (0x54485257); "
                + "the peer is not speaking the Thresher wire protocol"
        case let .unsupportedVersion(major, minor):
            "peer speaks protocol \(major).x; this build speaks \(FrameHeader.currentMajorVersion).x "
                + "(frame version \(major).\(minor)); run the same major version on both sides"
        case let .unknownMessageType(type):
            "unknown message type 0x\(hex(UInt64(type), width: 2)) in frame header"
        case let .unknownFlags(flags):
            "unknown frame flags 0x\(hex(UInt64(flags), width: 2)): only bit 0 (compressed) is defined in protocol 1.x"
        case let .frameTooLarge(byteCount, limit):
            "frame of \(byteCount) bytes exceeds the limit of \(limit) bytes (WireLimits.maxFrameBytes); "
                + "split the data (checkpoints travel in chunks) or raise the limit on both sides"
        case let .checksumMismatch(expected, actual):
            "checksum mismatch: header says CRC32C 0x\(hex(expected, width: 8)) but the frame hashes to "
                + "0x\(hex(actual, width: 8)); the frame was corrupted in transit"
        case let .trailingBytes(count):
            "\(count) unexpected byte(s) after the end of the message"
        case let .decompressedTooLarge(declared, limit):
            "compressed payload declares \(declared) uncompressed bytes, over the limit of \(limit) "
                + "(WireLimits.maxDecompressedBytes); refusing to decompress"
        case let .decompressionFailed(reason):
            "zstd could not decompress the payload: \(reason)"
        case let .decompressedSizeMismatch(declared, actual):
            "compressed payload declared \(declared) uncompressed bytes but decompressed to \(actual)"
        case let .invalidUTF8(field):
            "field \(field) is not valid UTF-8"
        case let .invalidBool(field, value):
            "field \(field) must be 0 or 1, found \(value)"
        case let .unknownEnumValue(field, value):
            "field \(field) has unknown value \(value) for this protocol version"
        case let .countExceedsInput(field, count, remaining):
            "field \(field) declares \(count) element(s) but only \(remaining) byte(s) remain; the count is corrupt"
        case let .duplicateMapKey(key):
            "parameter map repeats the key \"\(key)\"; keys must be unique"
        case let .nestingTooDeep(limit):
            "parameter values are nested deeper than \(limit) lists/maps (WireLimits.maxNesting)"
        case let .metricNameIndexOutOfRange(index, nameCount):
            "metric record refers to name #\(index) but the batch defines only \(nameCount) name(s)"
        case let .valueTooLarge(field, count):
            "field \(field) has \(count) elements/bytes, more than a u32 length can describe"
        }
    }
}

private func hex(_ value: UInt32, width: Int) -> String { hex(UInt64(value), width: width) }

private func hex(_ value: UInt64, width: Int) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
