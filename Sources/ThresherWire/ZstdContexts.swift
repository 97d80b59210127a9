import CZstd

/// Owns one `ZSTD_CCtx` and frees it in `deinit`: the only place ThresherWire compresses.
///
/// Guarantees: never writes past the capacity it is given and turns every zstd failure into
/// `nil` (the caller then sends the payload uncompressed). Not safe for concurrent use: a
/// compressor is used by one thread at a time, which `ZstdContextPool` ensures by lending each
/// one out exclusively (hence `@unchecked Sendable`: it may move between threads, never be shared).
final class ZstdCompressor: @unchecked Sendable {
    private let context: OpaquePointer

    /// Nil only if zstd cannot allocate a context.
    init?() {
        guard let context = ZSTD_createCCtx() else { return nil }
        self.context = context
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Compresses `source` at `level` into at most `capacity` bytes, as one zstd frame. Returns
    /// nil when the result would not fit or zstd fails.
    func compress(_ source: UnsafeRawBufferPointer, level: Int32, capacity: Int) -> [UInt8]? {
        guard capacity > 0, let base = source.baseAddress else { return nil }
        var succeeded = false
        let output = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            let result = ZSTD_compressCCtx(context, buffer.baseAddress, capacity, base, source.count, level)
            initialized = 0
            if ZSTD_isError(result) == 0, result <= capacity {
                initialized = result
                succeeded = true
            }
        }
        return succeeded ? output : nil
    }
}

/// Owns one `ZSTD_DCtx` and frees it in `deinit`: the only place ThresherWire decompresses.
///
/// Guarantees: decompression writes into a buffer of exactly the size the caller declares
/// (already checked against its limit), so no input can make it allocate more; any zstd error,
/// including content larger than declared, becomes a `WireError`. Same threading rule as
/// `ZstdCompressor`: one user at a time, lent out by `ZstdContextPool`.
final class ZstdDecompressor: @unchecked Sendable {
    private let context: OpaquePointer

    /// Nil only if zstd cannot allocate a context.
    init?() {
        guard let context = ZSTD_createDCtx() else { return nil }
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    /// Decompresses `source` (one or more zstd frames) into exactly `expectedSize` bytes.
    /// Throws `decompressionFailed` if zstd reports an error (content larger than
    /// `expectedSize` is one) and `decompressedSizeMismatch` if the content is smaller.
    func decompress(_ source: UnsafeRawBufferPointer, expectedSize: Int) throws(WireError) -> [UInt8] {
        var failure: WireError?
        // At least one byte, so the buffer always has a base address to hand to zstd.
        let output = [UInt8](unsafeUninitializedCapacity: max(1, expectedSize)) { buffer, initialized in
            let result = ZSTD_decompressDCtx(context, buffer.baseAddress, expectedSize, source.baseAddress, source.count)
            initialized = 0
            if ZSTD_isError(result) != 0 {
                failure = .decompressionFailed(reason: Self.errorName(result))
            } else if result != expectedSize {
                failure = .decompressedSizeMismatch(declared: expectedSize, actual: result)
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
