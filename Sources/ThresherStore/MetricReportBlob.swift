import Foundation

/// The points of one metric report packed into one BLOB (schema v2: one row per report instead of
/// one row per point, so ingest writes one B-tree entry per report).
///
/// Layout, all integers little-endian:
/// - `u8` format version (1)
/// - `u32` name count, then per name `u32` byte length and its UTF-8 bytes
/// - `u32` point count
/// - `u8` flags: bit 0 set when every point has the same time, stored once as `f64` bits next
/// - per point: `i64` step, `u32` name index, `u64` value bits (NaN and ±inf kept exactly),
///   and `f64` time bits unless the time is shared
///
/// Guarantees: `decode(encode(points))` returns the same points in the same order, bit for bit
/// (times as `timeIntervalSince1970`, as v1 stored them). Decoding never traps: a truncated,
/// over-long or otherwise malformed blob throws `StoreError.corruptMetricReport`.
enum MetricReportBlob {
    static let version: UInt8 = 1
    private static let sharedTime: UInt8 = 1

    static func encode(_ points: [MetricPoint]) -> [UInt8] {
        var names: [String] = []
        var indexByName: [String: UInt32] = [:]
        var indexes: [UInt32] = []
        indexes.reserveCapacity(points.count)
        // Reports usually repeat one or two names: compare with the previous one before hashing.
        var lastName: String? = nil
        var lastIndex: UInt32 = 0
        for point in points {
            if point.name != lastName {
                if let known = indexByName[point.name] {
                    lastIndex = known
                } else {
                    lastIndex = UInt32(names.count)
                    indexByName[point.name] = lastIndex
                    names.append(point.name)
                }
                lastName = point.name
            }
            indexes.append(lastIndex)
        }
        let firstTime = points.first?.time.timeIntervalSince1970.bitPattern ?? 0
        let timeShared = points.allSatisfy { $0.time.timeIntervalSince1970.bitPattern == firstTime }

        var out: [UInt8] = []
        out.reserveCapacity(16 + names.reduce(0) { $0 + 4 + $1.utf8.count } + points.count * (timeShared ? 20 : 28))
        out.append(version)
        append(UInt32(names.count), to: &out)
        for name in names {
            append(UInt32(name.utf8.count), to: &out)
            out.append(contentsOf: name.utf8)
        }
        append(UInt32(points.count), to: &out)
        out.append(timeShared ? sharedTime : 0)
        if timeShared { append(firstTime, to: &out) }
        for (point, index) in zip(points, indexes) {
            append(UInt64(bitPattern: point.step), to: &out)
            append(index, to: &out)
            append(point.value.bitPattern, to: &out)
            if !timeShared { append(point.time.timeIntervalSince1970.bitPattern, to: &out) }
        }
        return out
    }

    /// The names a blob mentions, without decoding its points (lets a backwards scan skip reports
    /// that cannot contain the name it looks for).
    static func names(_ blob: [UInt8]) throws -> [String] {
        var reader = Reader(bytes: blob)
        return try readHeader(&reader)
    }

    static func decode(_ blob: [UInt8]) throws -> [MetricPoint] {
        var reader = Reader(bytes: blob)
        let names = try readHeader(&reader)
        let count = Int(try reader.u32())
        let flags = try reader.u8()
        guard flags & ~sharedTime == 0 else { throw corrupt("unknown flags \(flags)") }
        let timeShared = flags & sharedTime != 0
        let shared = timeShared ? Double(bitPattern: try reader.u64()) : 0
        // Check the size before allocating: a garbage count must not reserve gigabytes.
        let perPoint = timeShared ? 20 : 28
        guard reader.remaining == count * perPoint else {
            throw corrupt("\(count) points need \(count * perPoint) bytes, \(reader.remaining) remain")
        }
        var points: [MetricPoint] = []
        points.reserveCapacity(count)
        for _ in 0 ..< count {
            let step = Int64(bitPattern: try reader.u64())
            let index = Int(try reader.u32())
            guard index < names.count else { throw corrupt("name index \(index) of \(names.count)") }
            let value = Double(bitPattern: try reader.u64())
            let time = timeShared ? shared : Double(bitPattern: try reader.u64())
            points.append(MetricPoint(step: step, name: names[index], value: value, time: Date(timeIntervalSince1970: time)))
        }
        return points
    }

    private static func readHeader(_ reader: inout Reader) throws -> [String] {
        let format = try reader.u8()
        guard format == version else { throw corrupt("unknown format version \(format)") }
        let count = Int(try reader.u32())
        guard count <= reader.remaining / 4 else { throw corrupt("\(count) names cannot fit in \(reader.remaining) bytes") }
        var names: [String] = []
        names.reserveCapacity(count)
        for _ in 0 ..< count {
            let length = Int(try reader.u32())
            let bytes = try reader.bytes(length)
            guard let name = String(validating: bytes, as: UTF8.self) else { throw corrupt("a name is not UTF-8") }
            names.append(name)
        }
        return names
    }

    private static func corrupt(_ detail: String) -> StoreError { .corruptMetricReport(detail) }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    /// Bounds-checked little-endian reads over a blob.
    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var remaining: Int { bytes.count - offset }

        mutating func u8() throws -> UInt8 {
            guard remaining >= 1 else { throw MetricReportBlob.corrupt("truncated") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u32() throws -> UInt32 { UInt32(truncatingIfNeeded: try fixed(4)) }
        mutating func u64() throws -> UInt64 { try fixed(8) }

        mutating func bytes(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, remaining >= count else { throw MetricReportBlob.corrupt("truncated") }
            defer { offset += count }
            return bytes[offset ..< offset + count]
        }

        private mutating func fixed(_ width: Int) throws -> UInt64 {
            guard remaining >= width else { throw MetricReportBlob.corrupt("truncated") }
            var value: UInt64 = 0
            for i in 0 ..< width { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
            offset += width
            return value
        }
    }
}
