import CZlib
import Foundation

/// Why gzip data could not be decompressed.
public enum GzipError: Error, Sendable, Equatable, CustomStringConvertible {
    /// zlib rejected the stream (bad header, bad checksum, invalid deflate data); `message` is zlib's.
    case corrupt(message: String)
    /// The stream ended before the gzip trailer.
    case truncated
    /// The decompressed size would exceed `limit` bytes.
    case tooLarge(limit: Int)
    /// zlib could not be initialised (out of memory).
    case zlibFailure(code: Int32)

    public var description: String {
        switch self {
        case .corrupt(let message): return "corrupt gzip data: \(message)"
        case .truncated: return "gzip data ends before its trailer (truncated file)"
        case .tooLarge(let limit): return "gzip data decompresses to more than \(limit) bytes"
        case .zlibFailure(let code): return "zlib could not start (code \(code))"
        }
    }
}

/// Whole-buffer gzip decompression with zlib's `inflate` (the only caller of `inflate*` in Thresher).
///
/// Guarantees: the output is exactly the concatenated members' data, checked against the gzip
/// CRC-32 and length; corrupt or truncated input and output over `limit` bytes are typed errors,
/// never a trap.
public enum Gzip {
    /// 1 GiB: far above any table the engine reads, small enough to stop a decompression bomb.
    public static let defaultLimit = 1 << 30

    /// True when `data` starts with the gzip magic bytes 1f 8b.
    public static func isGzip(_ data: [UInt8]) -> Bool {
        data.count >= 2 && data[0] == 0x1f && data[1] == 0x8b
    }

    /// Decompresses a complete gzip stream (one or more members).
    public static func decompress(_ input: [UInt8], limit: Int = defaultLimit) throws(GzipError) -> [UInt8] {
        var output: [UInt8] = []
        var stream = z_stream()
        // windowBits 15 + 32: automatic zlib/gzip header detection.
        let initCode = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initCode == Z_OK else { throw .zlibFailure(code: initCode) }
        defer { inflateEnd(&stream) }
        if input.isEmpty { throw .truncated }

        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var failure: GzipError?
        input.withUnsafeBufferPointer { inBuf in
            guard let base = inBuf.baseAddress else { return }
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = UInt32(inBuf.count)
            while true {
                let code: Int32 = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                if output.count + produced > limit { failure = .tooLarge(limit: limit); return }
                output.append(contentsOf: chunk[0..<produced])
                switch code {
                case Z_STREAM_END:
                    // Another gzip member may follow (as `cat a.gz b.gz`); trailing zero padding is ignored.
                    if stream.avail_in > 0, inBuf[(inBuf.count - Int(stream.avail_in))...].contains(where: { $0 != 0 }) {
                        inflateReset(&stream)
                        continue
                    }
                    return
                case Z_OK:
                    continue
                case Z_BUF_ERROR:
                    // No progress was possible: with output space available that means the input ran out.
                    if stream.avail_in == 0 || produced == 0 { failure = .truncated; return }
                    continue
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(code)"
                    failure = .corrupt(message: message)
                    return
                }
            }
        }
        if let failure { throw failure }
        return output
    }
}
