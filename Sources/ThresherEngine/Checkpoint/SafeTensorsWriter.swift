/// Lays out a safetensors file the way the reference implementation (`safetensors` 0.4+, Rust) does
/// for Float32 tensors, so files are byte-for-byte what `safetensors.torch.save_file` writes for
/// the same tensors and metadata:
/// - tensors in ascending order of their names' UTF-8 bytes, stored back to back from offset 0,
///   Float32 little-endian, row-major;
/// - a compact JSON header (no spaces), `__metadata__` first when there is metadata (keys sorted by
///   UTF-8 bytes; the reference uses a hash map's order, so only this ordering is Thresher's choice),
///   then each tensor as `{"dtype":"F32","shape":[...],"data_offsets":[begin,end]}`;
/// - the header padded with spaces to a multiple of 8 bytes, so the data starts 8-byte aligned;
/// - strings escaped as serde_json does (`\"`, `\\`, `\b \f \n \r \t`, other controls as `\u00xx`,
///   everything else, non-ASCII included, as raw UTF-8).
enum SafeTensorsWriter {
    /// The 8-byte length and the padded header; the data follows in `orderedNames` order.
    static func header(for file: SafeTensorsFile) throws(SafeTensorsError) -> (prefix: [UInt8], orderedNames: [String]) {
        guard file.tensors["__metadata__"] == nil else { throw .reservedName }
        let names = file.tensors.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var json: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        func separator() {
            if !first { json.append(UInt8(ascii: ",")) }
            first = false
        }
        if !file.metadata.isEmpty {
            separator()
            append(string: "__metadata__", to: &json)
            json.append(contentsOf: Array(":{".utf8))
            let keys = file.metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (i, key) in keys.enumerated() {
                if i > 0 { json.append(UInt8(ascii: ",")) }
                append(string: key, to: &json)
                json.append(UInt8(ascii: ":"))
                append(string: file.metadata[key] ?? "", to: &json)
            }
            json.append(UInt8(ascii: "}"))
        }
        var offset = 0
        for name in names {
            guard let tensor = file.tensors[name] else { continue }
            let (bytes, overflow) = tensor.count.multipliedReportingOverflow(by: 4)
            guard !overflow else { throw .shapeTooLarge(name: name, shape: tensor.shape) }
            separator()
            append(string: name, to: &json)
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            json.append(contentsOf: Array(":{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}".utf8))
            offset += bytes
        }
        json.append(UInt8(ascii: "}"))
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var prefix: [UInt8] = []
        prefix.reserveCapacity(8 + json.count)
        var length = UInt64(json.count)
        for _ in 0..<8 {
            prefix.append(UInt8(truncatingIfNeeded: length))
            length >>= 8
        }
        prefix.append(contentsOf: json)
        return (prefix, names)
    }

    /// The whole file in memory.
    static func encode(_ file: SafeTensorsFile) throws(SafeTensorsError) -> [UInt8] {
        let (prefix, names) = try header(for: file)
        var out = prefix
        for name in names {
            guard let tensor = file.tensors[name] else { continue }
            appendLittleEndian(tensor.storage, to: &out)
        }
        return out
    }

    static func appendLittleEndian(_ values: [Float], to out: inout [UInt8]) {
        #if _endian(little)
        values.withUnsafeBytes { out.append(contentsOf: $0) }
        #else
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { out.append(contentsOf: $0) }
        }
        #endif
    }

    static func append(string: String, to json: inout [UInt8]) {
        json.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): json.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): json.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: json.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: json.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: json.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: json.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: json.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                json.append(contentsOf: Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: json.append(byte)
            }
        }
        json.append(UInt8(ascii: "\""))
    }
}

extension Array {
    /// `withUnsafeBytes` for a body with a typed error (the standard one only rethrows `any Error`).
    func withTypedThrowingBytes<R>(
        _ body: (UnsafeRawBufferPointer) throws(SafeTensorsError) -> R
    ) throws(SafeTensorsError) -> R {
        let result: Result<R, SafeTensorsError> = withUnsafeBytes { raw in
            Result { () throws(SafeTensorsError) -> R in try body(raw) }
        }
        return try result.get()
    }
}
