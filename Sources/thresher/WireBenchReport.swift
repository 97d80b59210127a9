import Foundation

extension WireBenchmark.Result {
    /// The floor from the foundation issue: ThresherNet's round trip at most 1.15× bare NNG's.
    static let rttRatioFloor = 1.15

    func table() -> String {
        var lines: [String] = []
        lines.append("thresher bench wire — \(MachineDescription.current)")
        lines.append("")
        lines.append("codec: Report of 1,000 records, \(reportBytes) B frame (uncompressed), \(plan.codecIterations) iterations")
        lines.append(String(format: "  encode  %8.1f MB/s  %10.0f msg/s", encodeMBs, encodeMsgs))
        lines.append(String(format: "  decode  %8.1f MB/s  %10.0f msg/s", decodeMBs, decodeMsgs))
        lines.append("zstd level \(plan.zstdLevel) on that frame's payload")
        lines.append(String(format: "  ratio   %8.2f", zstdRatio))
        lines.append(String(format: "  encode+compress   %8.1f MB/s   decompress+decode %8.1f MB/s", zstdCompressMBs, zstdDecompressMBs))
        lines.append("round trips over tcp loopback (median of \(plan.rounds) alternating rounds × \(plan.roundTrips))")
        lines.append("  payload    ThresherNet            bare NNG               ratio")
        for rt in roundTrips {
            let size = rt.payload >= 1024 ? "\(rt.payload / 1024) KiB" : "\(rt.payload) B"
            let verdict = rt.ratio <= Self.rttRatioFloor ? "ok" : "ABOVE the \(Self.rttRatioFloor)× floor"
            lines.append(String(format: "  %-9@ %7.1f µs %8.0f/s   %7.1f µs %8.0f/s   %5.3f× %@",
                                size as NSString, rt.thresher.seconds * 1e6, 1 / rt.thresher.seconds,
                                rt.bare.seconds * 1e6, 1 / rt.bare.seconds, rt.ratio, verdict as NSString))
        }
        lines.append(String(format: "bulk, 1 MiB requests: ThresherNet %.0f MB/s, bare NNG %.0f MB/s", bulkMBs, bareBulkMBs))
        lines.append(String(format: "full stack: Report of 100 records → Ack via ClusterClient/ClusterServer: %.1f µs, %.0f/s",
                            stackReportRTT.seconds * 1e6, 1 / stackReportRTT.seconds))
        return lines.joined(separator: "\n")
    }

    func json() -> String {
        var object: [String: Any] = [
            "encode_mb_s": encodeMBs, "decode_mb_s": decodeMBs,
            "encode_msgs_s": encodeMsgs, "decode_msgs_s": decodeMsgs,
            "report_frame_bytes": reportBytes,
            "zstd_level": Int(plan.zstdLevel), "zstd_ratio": zstdRatio,
            "zstd_compress_mb_s": zstdCompressMBs, "zstd_decompress_mb_s": zstdDecompressMBs,
            "bulk_mb_s": bulkMBs, "bare_bulk_mb_s": bareBulkMBs,
            "stack_report_rtt_us": stackReportRTT.seconds * 1e6,
            "machine": MachineDescription.current,
            "date": ISO8601DateFormatter().string(from: Date()),
        ]
        for rt in roundTrips {
            let key = rt.payload >= 1024 ? "\(rt.payload / 1024)kib" : "\(rt.payload)b"
            object["rtt_ratio_\(key)"] = rt.ratio
            object["rtt_us_\(key)"] = rt.thresher.seconds * 1e6
            object["bare_rtt_us_\(key)"] = rt.bare.seconds * 1e6
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
              let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text
    }
}

/// CPU model and core count, for the benchmark's header line.
enum MachineDescription {
    static var current: String {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let model = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n")
            .first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?
            .trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        return "\(model), \(cores) cores"
    }
}
