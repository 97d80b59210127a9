import Foundation
import ThresherWire

/// SHA-256 (ThresherWire's) over length-framed fields: the cache key.
/// Framing each field by its length means no two different field sequences hash the same byte
/// stream ("ab","c" vs "a","bc").
final class CacheKeyHasher {
    private var digest = SHA256()

    /// Adds raw bytes to the digest input.
    func update(_ bytes: UnsafeRawBufferPointer) { digest.update(bytes) }

    /// Adds a field framed by its 8-byte little-endian length.
    func field(_ bytes: [UInt8]) {
        withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { update($0) }
        bytes.withUnsafeBytes { update($0) }
    }

    func field(_ text: String) { field(Array(text.utf8)) }

    /// Float32 values as little-endian bytes, framed by their byte count.
    func field(_ values: [Float]) {
        withUnsafeBytes(of: UInt64(values.count * 4).littleEndian) { update($0) }
        #if _endian(little)
        values.withUnsafeBytes { update($0) }
        #else
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { update($0) } }
        #endif
    }

    /// The digest as 64 lower-case hex digits.
    func hex() -> String { digest.hexDigest() }
}

/// An on-disk cache of the W1 pipeline's output (`BoolQPipeline`), so that the 81 trials of a sweep
/// (and reruns after a crash) preprocess once.
///
/// Why it is built this way: the notebook's cache was keyed on nothing the pipeline read, and silently
/// fed a whole sweep inputs of the wrong size. Here the key is SHA-256 over, framed by lengths:
/// `formatVersion`, the bytes of every input file (the BoolQ JSONL files and the embeddings file, as
/// stored — compressed bytes for .gz), the embeddings `limit`, every pipeline setting
/// (`BoolQPipelineSettings.cacheDescription`) and the split (`BoolQSource.cacheDescription`: seed and
/// sizes). File paths are not in the key: the same bytes under another name hit.
///
/// Guarantees:
/// - An entry is one safetensors file `<folder>/boolq-<key>.safetensors`, written atomically
///   (`SafeTensorsFile.write(toFile:)`: temporary file, fsync, rename), with the key, format
///   version, settings, split, report and a CRC32C of every tensor's contents in its metadata.
/// - A hit is returned only if the file parses, its key, version and settings match, every tensor
///   has the shape the report implies ([N, T, D] inputs, [N] lengths and labels), the content
///   checksum matches and the datasets validate. Anything else (truncated, corrupt, edited, another
///   version) is a miss: the pipeline runs again and the file is overwritten. A cache file is never
///   trusted on its name alone.
/// - Failing to write the cache (read-only folder, full disk) does not fail the run: the computed
///   output is returned and the reason is in `BoolQCacheResult.writeError`.
public struct PreprocessingCache: Sendable {
    /// Bumped whenever the pipeline's output for the same inputs and settings could change; the
    /// test `PipelineRevisionTests` pins a digest of that output so a change cannot slip by unbumped.
    /// 2: the tokenizer's quote and apostrophe handling changed after version 1 entries were written.
    /// 3: the content check became a CRC32C (metadata `content.crc32c`).
    public static let formatVersion = 3

    public let folder: String

    public init(folder: String) {
        self.folder = folder
    }

    /// The BoolQ splits for `source` with the vectors at `embeddings` (plain or gzip; first `limit`
    /// words), from the cache when a valid entry exists, else computed and stored.
    public func boolQ(source: BoolQSource, embeddings: String, limit: Int? = nil,
                      settings: BoolQPipelineSettings = .init()) throws(DatasetError) -> BoolQCacheResult {
        var inputs: [String: [UInt8]] = [:]
        for path in source.paths { inputs[path] = try WordVectors.fileBytes(path) }
        let embeddingBytes = try WordVectors.fileBytes(embeddings)

        let hash = CacheKeyHasher()
        hash.field("thresher boolq preprocessing cache, format \(Self.formatVersion)")
        for (i, path) in source.paths.enumerated() {
            hash.field("input \(i)")
            hash.field(inputs[path] ?? [])
        }
        hash.field("embeddings")
        hash.field(embeddingBytes)
        hash.field("limit=\(limit.map(String.init) ?? "none")")
        hash.field(settings.cacheDescription)
        hash.field(source.cacheDescription)
        let key = hash.hex()
        let path = (folder as NSString).appendingPathComponent("boolq-\(key).safetensors")

        if let output = load(path: path, key: key, settings: settings) {
            return BoolQCacheResult(output: output, hit: true, key: key, path: path, writeError: nil)
        }
        let vectors = try WordVectors(bytes: embeddingBytes, path: embeddings, limit: limit)
        let output = try BoolQPipeline.run(source: source, fileBytes: inputs, vectors: vectors, settings: settings)
        var writeError: String?
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try store(output, path: path, key: key, settings: settings, limit: limit)
        } catch {
            writeError = "\(error)"
        }
        return BoolQCacheResult(output: output, hit: false, key: key, path: path, writeError: writeError)
    }

    private static let splitNames = ["train", "validation", "test"]

    private func store(_ output: BoolQPipelineOutput, path: String, key: String, settings: BoolQPipelineSettings,
                       limit: Int?) throws {
        var tensors: [String: Tensor] = [:]
        let sets = [output.splits.train, output.splits.validation, output.splits.test]
        for (name, set) in zip(Self.splitNames, sets) {
            guard let set, case .sequences(let x, let lengths) = set.inputs else { continue }
            tensors["\(name).x"] = x
            tensors["\(name).lengths"] = Tensor(shape: [lengths.count], storage: lengths.map(Float.init))
            tensors["\(name).labels"] = Tensor(shape: [set.count], storage: set.labels.map(Float.init))
        }
        // Sorted keys: the same output always gives the same file bytes.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let report = try encoder.encode(output.report)
        let settingsJSON = try encoder.encode(settings)
        let metadata: [String: String] = [
            "thresher.cache.key": key,
            "thresher.cache.format": String(Self.formatVersion),
            "thresher.cache.kind": "boolq",
            "settings": settings.cacheDescription,
            "settings.json": String(decoding: settingsJSON, as: UTF8.self),
            "embeddings.limit": limit.map(String.init) ?? "none",
            "splits": zip(Self.splitNames, sets).filter { $0.1 != nil }.map(\.0).joined(separator: ","),
            "report": String(decoding: report, as: UTF8.self),
            "description": output.splits.description,
            "content.crc32c": Self.contentChecksum(tensors),
        ]
        try SafeTensorsFile(tensors: tensors, metadata: metadata).write(toFile: path)
    }

    /// CRC32C over every tensor's name, shape and little-endian float bytes, in name order. It
    /// guards against torn or bit-flipped files, not against a forger (whoever can write the cache
    /// folder can write any key), so a checksum is enough — and a SHA-256 of the 175 MB W1 entry
    /// cost ~50 s per hit in debug builds.
    static func contentChecksum(_ tensors: [String: Tensor]) -> String {
        var crc = CRC32C()
        for name in tensors.keys.sorted() {
            guard let t = tensors[name] else { continue }
            crc.update(Array("\(name)|\(t.shape.map(String.init).joined(separator: ","))|".utf8))
            #if _endian(little)
            t.storage.withUnsafeBytes { crc.update($0) }
            #else
            for v in t.storage { withUnsafeBytes(of: v.bitPattern.littleEndian) { crc.update($0) } }
            #endif
        }
        return String(crc.checksum, radix: 16)
    }

    /// The cached output at `path` if, and only if, every check passes (see the type's documentation).
    func load(path: String, key: String, settings: BoolQPipelineSettings) -> BoolQPipelineOutput? {
        guard FileManager.default.fileExists(atPath: path),
              let file = try? SafeTensorsFile(contentsOfFile: path),
              file.metadata["thresher.cache.key"] == key,
              file.metadata["thresher.cache.format"] == String(Self.formatVersion),
              file.metadata["settings"] == settings.cacheDescription,
              let reportJSON = file.metadata["report"],
              let report = try? JSONDecoder().decode(BoolQPipelineReport.self, from: Data(reportJSON.utf8)),
              let present = file.metadata["splits"]?.split(separator: ",").map(String.init),
              present.first == "train",
              let checksum = file.metadata["content.crc32c"], checksum == Self.contentChecksum(file.tensors)
        else { return nil }
        let counts = ["train": report.trainCount, "validation": report.validationCount, "test": report.testCount]
        var expectedNames = Set<String>()
        var sets: [String: ClassificationDataset] = [:]
        for name in present {
            guard Self.splitNames.contains(name), let n = counts[name],
                  let x = file.tensors["\(name).x"], x.shape == [n, report.steps, report.dimension],
                  let lengths = file.tensors["\(name).lengths"], lengths.shape == [n],
                  let labels = file.tensors["\(name).labels"], labels.shape == [n],
                  let lengthInts = Self.integers(lengths.storage), let labelInts = Self.integers(labels.storage),
                  let set = try? ClassificationDataset(inputs: .sequences(x, lengths: lengthInts), labels: labelInts, classCount: 2)
            else { return nil }
            expectedNames.formUnion(["\(name).x", "\(name).lengths", "\(name).labels"])
            sets[name] = set
        }
        guard Set(file.tensors.keys) == expectedNames, let train = sets["train"],
              report.steps == report.questionPad + report.separatorLength + report.passageCut,
              report.separatorLength == settings.separatorLength,
              let splits = try? DatasetSplits(train: train, validation: sets["validation"], test: sets["test"],
                                              description: report.summary)
        else { return nil }
        return BoolQPipelineOutput(splits: splits, report: report)
    }

    /// The values as Ints when every one is an exact integer in ±2²⁴; nil otherwise.
    private static func integers(_ values: [Float]) -> [Int]? {
        var out: [Int] = []
        out.reserveCapacity(values.count)
        for v in values {
            guard v.isFinite, v == v.rounded(), abs(v) <= 16_777_216 else { return nil }
            out.append(Int(v))
        }
        return out
    }
}

/// One cache lookup: the output, whether it came from disk, and where the entry lives.
public struct BoolQCacheResult: Sendable {
    public var output: BoolQPipelineOutput
    /// True when the output was read from a valid cache file (the pipeline did not run).
    public var hit: Bool
    /// The 64-hex-digit SHA-256 key.
    public var key: String
    /// The entry's file.
    public var path: String
    /// Why storing a freshly computed entry failed, if it did (the output is still valid).
    public var writeError: String?
}
