/// Resource limits a decoder enforces before it allocates or recurses.
///
/// Guarantees: with these limits a decoder never allocates more than about
/// `maxFrameBytes + maxDecompressedBytes` for one frame, whatever the input claims, and never
/// recurses deeper than `maxNesting` levels. Encoders apply the same limits, so a frame this
/// side produces is one a peer with the same limits accepts.
public struct WireLimits: Sendable, Hashable {
    /// Largest frame accepted, the 16-byte header included. Checked from the header, before the
    /// payload is read. Default 64 MiB.
    public var maxFrameBytes: Int
    /// Largest uncompressed payload a compressed frame may declare. Checked before the
    /// decompression buffer is allocated. Default 64 MiB.
    public var maxDecompressedBytes: Int
    /// Deepest nesting of `ParamValue` lists and maps (an `Assign` parameter map counts as one
    /// level). Default 32. Decoding recurses once per level, so keep this in the hundreds at most.
    public var maxNesting: Int

    public static let defaultMaxFrameBytes = 64 << 20
    public static let defaultMaxDecompressedBytes = 64 << 20
    public static let defaultMaxNesting = 32

    public init(
        maxFrameBytes: Int = WireLimits.defaultMaxFrameBytes,
        maxDecompressedBytes: Int = WireLimits.defaultMaxDecompressedBytes,
        maxNesting: Int = WireLimits.defaultMaxNesting
    ) {
        self.maxFrameBytes = maxFrameBytes
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxNesting = maxNesting
    }
}
