import Foundation

/// The contents of a safetensors file: named Float32 tensors and string metadata.
///
/// Format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// header `{"name": {"dtype", "shape", "data_offsets": [begin, end]}, ..., "__metadata__": {...}}`,
/// then the data buffer; offsets are relative to the buffer; tensors are contiguous, row-major,
/// little-endian.
///
/// Guarantees:
/// - Reading validates everything the reference implementation validates (see `SafeTensorsReader`)
///   and reports each problem as a `SafeTensorsError`; it never traps on a malformed file. Headers
///   are limited to 100,000,000 bytes. Non-F32 dtypes are converted to Float32 as `SafeTensorsDType`
///   documents (F64/F16/BF16 and exactly representable integers), or rejected.
/// - Writing produces F32 tensors in the reference implementation's byte layout (sorted names,
///   compact header padded with spaces to 8 bytes; see `SafeTensorsWriter`), loadable by Python's
///   `safetensors` package; `write(toFile:)` replaces the file atomically (see `AtomicFile`).
/// - Tensor names are compared as Swift `String`s: two names that differ only in Unicode
///   normalisation are one name to Thresher, so such a file is rejected as `duplicateName`.
/// - Empty metadata is not written (as `save_file(tensors)` without metadata); reading a file with
///   no `__metadata__` gives empty metadata.
public struct SafeTensorsFile: Sendable, Equatable {
    public var tensors: [String: Tensor]
    public var metadata: [String: String]

    public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Parses and validates a file held in memory.
    public init(bytes: [UInt8]) throws(SafeTensorsError) {
        self = try SafeTensorsReader.decode(bytes)
    }

    /// Parses and validates a file held in memory.
    public init(data: Data) throws(SafeTensorsError) {
        self = try SafeTensorsReader.decode([UInt8](data))
    }

    /// Reads, parses and validates the file at `path`.
    public init(contentsOfFile path: String) throws(SafeTensorsError) {
        self = try SafeTensorsReader.decode(AtomicFile.contents(of: path))
    }

    /// The tensor called `name`, checked against `shape` when one is given (for loading weights into
    /// a model built with known shapes: `--init`, embeddings). Throws `missingTensor` or `shapeMismatch`.
    public func tensor(named name: String, shape: [Int]? = nil) throws(SafeTensorsError) -> Tensor {
        guard let tensor = tensors[name] else { throw .missingTensor(name) }
        if let shape, tensor.shape != shape { throw .shapeMismatch(name: name, expected: shape, found: tensor.shape) }
        return tensor
    }

    /// The file's bytes. Throws `reservedName` for a tensor called `__metadata__`.
    public func serialized() throws(SafeTensorsError) -> [UInt8] {
        try SafeTensorsWriter.encode(self)
    }

    /// Writes the file to `path` atomically (temporary file in the same folder, fsync, rename),
    /// streaming each tensor's storage without building the whole file in memory.
    public func write(toFile path: String) throws(SafeTensorsError) {
        let (prefix, names) = try SafeTensorsWriter.header(for: self)
        try AtomicFile.replace(path) { (emit) throws(SafeTensorsError) in
            try prefix.withTypedThrowingBytes { (raw) throws(SafeTensorsError) in try emit(raw) }
            for name in names {
                guard let tensor = tensors[name] else { continue }
                #if _endian(little)
                try tensor.storage.withTypedThrowingBytes { (raw) throws(SafeTensorsError) in try emit(raw) }
                #else
                var bytes: [UInt8] = []
                SafeTensorsWriter.appendLittleEndian(tensor.storage, to: &bytes)
                try bytes.withTypedThrowingBytes { (raw) throws(SafeTensorsError) in try emit(raw) }
                #endif
            }
        }
    }
}
