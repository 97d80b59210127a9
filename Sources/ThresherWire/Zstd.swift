import CZstd

/// The only place ThresherWire calls zstd: one-shot compression and bounded decompression.
///
/// Guarantees: stateless and thread-safe (each call uses zstd's one-shot API, which creates and
/// frees its own context), never writes past the capacity it is given, and turns every zstd
/// error into a `nil` (compression) or a `WireError` (decompression).
///
/// Why one-shot rather than a long-lived `ZSTD_CCtx`/`ZSTD_DCtx`: measured on this project's
/// payloads (1 KiB – 1 MiB metric batches) the difference is within noise, while a shared
/// context would need a lock or per-thread ownership to keep `FrameCodec` usable from many
/// threads at once. See Tests/ThresherWireTests/ZstdTests.swift for the measurement.
enum Zstd {
    /// Compresses `source` at `level` into at most `capacity` bytes. Returns nil when the
    /// result would not fit (the caller then sends the payload uncompressed) or zstd fails.
    static func compress(_ source: UnsafeRawBufferPointer, level: Int32, capacity: Int) -> [UInt8]? {
        guard capacity > 0, let base = source.baseAddress else { return nil }
        var succeeded = false
        let output = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            let result = ZSTD_compress(buffer.baseAddress, capacity, base, source.count, level)
            if ZSTD_isError(result) == 0, result <= capacity {
                initialized = result
                succeeded = true
            } else {
                initialized = 0
            }
        }
        return succeeded ? output : nil
    }

    /// Decompresses `source` (one or more zstd frames) into a buffer of exactly
    /// `expectedSize` bytes, which the caller has already checked against its limit.
    /// Throws `decompressionFailed` if zstd reports an error (including content larger than
    /// `expectedSize`) and `decompressedSizeMismatch` if the content is smaller.
    static func decompress(_ source: UnsafeRawBufferPointer, expectedSize: Int) throws(WireError) -> [UInt8] {
        var failure: WireError?
        // Allocate at least one byte so the buffer always has a base address.
        let output = [UInt8](unsafeUninitializedCapacity: max(1, expectedSize)) { buffer, initialized in
            let result = ZSTD_decompress(buffer.baseAddress, expectedSize, source.baseAddress, source.count)
            initialized = 0
            if ZSTD_isError(result) != 0 {
                failure = .decompressionFailed(reason: errorName(result))
            } else if result != expectedSize {
                failure = .decompressedSizeMismatch(declared: expectedSize, actual: Int(clamping: result))
            } else {
                initialized = result
            }
        }
        if let failure { throw failure }
        return output
    }

    private static func errorName(_ code: Int) -> String {
        guard let name = ZSTD_getErrorName(code) else { return "zstd error \(code)" }
        return String(cString: name)
    }
}
