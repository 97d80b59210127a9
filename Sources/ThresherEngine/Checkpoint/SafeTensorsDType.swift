/// The safetensors element types Thresher reads, with their size in bytes, and their conversion to Float32.
///
/// Thresher writes only `F32`. It reads `F32` as is; `F64`, `F16` and `BF16` convert to the nearest
/// Float32 (F16/BF16 exactly, F64 by rounding, as PyTorch's `.float()`; a finite F64 beyond Float32's
/// range is an `inexactConversion` error rather than an infinity); `BOOL` and the integer types convert
/// when the value is exactly representable as Float32 (every integer up to 2^24 in magnitude) and
/// are rejected otherwise. The remaining safetensors dtypes (`F8_*`, `F6_*`, `F4`, `E8M0`, `C64`)
/// are `unsupportedDType`; any other string is `unknownDType`.
enum SafeTensorsDType: String, CaseIterable, Sendable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", u16 = "U16", i16 = "I16", u32 = "U32", i32 = "I32"
    case u64 = "U64", i64 = "I64", f16 = "F16", bf16 = "BF16", f32 = "F32", f64 = "F64"

    /// Dtypes of the safetensors format that Thresher recognises but does not convert.
    static let unsupported: Set<String> = ["F8_E5M2", "F8_E4M3", "F8_E8M0", "E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64"]

    var size: Int {
        switch self {
        case .bool, .u8, .i8: 1
        case .u16, .i16, .f16, .bf16: 2
        case .u32, .i32, .f32: 4
        case .u64, .i64, .f64: 8
        }
    }

    /// Converts `count` little-endian elements starting at `start` of `bytes` to Float32.
    /// Returns the index of the first element that is not exactly representable, as `.failure`.
    func decode(_ bytes: UnsafeRawBufferPointer, start: Int, count: Int) -> Result<[Float], InexactElement> {
        if self == .f32 { return .success(Self.decodeF32(bytes, start: start, count: count)) }
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let offset = start + i * size
            let value: Float?
            switch self {
            case .bool: value = bytes[offset] == 0 ? 0 : 1
            case .u8: value = Float(bytes[offset])
            case .i8: value = Float(Int8(bitPattern: bytes[offset]))
            case .u16: value = Float(Self.load(UInt16.self, bytes, offset))
            case .i16: value = Float(Int16(bitPattern: Self.load(UInt16.self, bytes, offset)))
            case .u32: value = Float(exactly: Self.load(UInt32.self, bytes, offset))
            case .i32: value = Float(exactly: Int32(bitPattern: Self.load(UInt32.self, bytes, offset)))
            case .u64: value = Float(exactly: Self.load(UInt64.self, bytes, offset))
            case .i64: value = Float(exactly: Int64(bitPattern: Self.load(UInt64.self, bytes, offset)))
            case .f16: value = Self.halfToFloat(Self.load(UInt16.self, bytes, offset))
            case .bf16: value = Float(bitPattern: UInt32(Self.load(UInt16.self, bytes, offset)) << 16)
            case .f64:
                let d = Double(bitPattern: Self.load(UInt64.self, bytes, offset))
                let f = Float(d)
                value = d.isFinite && !f.isFinite ? nil : f
            case .f32: value = nil  // handled above
            }
            guard let value else { return .failure(InexactElement(index: i)) }
            out[i] = value
        }
        return .success(out)
    }

    struct InexactElement: Error { let index: Int }

    static func decodeF32(_ bytes: UnsafeRawBufferPointer, start: Int, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            #if _endian(little)
            if count > 0, let source = bytes.baseAddress, let destination = buffer.baseAddress {
                UnsafeMutableRawPointer(destination).copyMemory(from: source + start, byteCount: count * 4)
            }
            #else
            for i in 0..<count { buffer[i] = Float(bitPattern: load(UInt32.self, bytes, start + 4 * i)) }
            #endif
            initialized = count
        }
    }

    static func load<T: FixedWidthInteger>(_: T.Type, _ bytes: UnsafeRawBufferPointer, _ offset: Int) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// IEEE 754 binary16 to Float32 (exact; subnormals, infinities and NaN preserved).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        switch exponent {
        case 0:
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 31:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | mantissa << 13)
        }
    }
}
