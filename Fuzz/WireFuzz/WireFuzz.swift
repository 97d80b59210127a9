// The wire decoder fuzzer.
//
// Built by `scripts/fuzz wire` with `-sanitize=fuzzer -DTHRESHER_FUZZING`: libFuzzer supplies
// `main` and calls `LLVMFuzzerTestOneInput` with generated inputs. Built plainly (`swift build`)
// it is a replay driver instead: `wire-fuzz FILE|DIR...` decodes each file (every file of a
// directory) and prints what the decoder made of it, which is how a crashing input found by the
// fuzzer is reproduced in a debugger.
import Foundation
import FuzzSupport
import ThresherWire

/// What the fuzzer checks for one input. A decode may fail, with a `WireError`, but must never
/// trap; a message that decodes must encode again and survive a second round trip unchanged.
/// A broken invariant stops the process on purpose: that is how libFuzzer recognises a finding.
///
/// Each input is decoded twice: as given (header checks, checksum) and with its length field
/// and CRC32C repaired, because a mutation almost never keeps the checksum valid and the
/// payload parser and zstd behind it would otherwise see almost no fuzzed input.
enum WireFuzzCheck {
    static let codec = FrameCodec()

    /// Returns a one-line summary of both outcomes for the replay driver.
    @discardableResult
    static func run(_ input: UnsafeRawBufferPointer) -> String {
        let asGiven = check(input)
        guard input.count >= FrameHeader.byteCount else { return asGiven }
        let repaired = withChecksumRepaired([UInt8](input)).withUnsafeBytes { check($0) }
        return "\(asGiven); with length and CRC repaired: \(repaired)"
    }

    /// `frame` with bytes 8..11 set to the payload length it actually has and bytes 12..15 to
    /// the CRC32C of bytes 0..11 and the payload.
    static func withChecksumRepaired(_ frame: [UInt8]) -> [UInt8] {
        var frame = frame
        let length = UInt32(truncatingIfNeeded: frame.count - FrameHeader.byteCount)
        for i in 0..<4 { frame[8 + i] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(i))) }
        var crc = CRC32C()
        crc.update(Array(frame[0..<12]))
        crc.update(Array(frame[FrameHeader.byteCount...]))
        let checksum = crc.checksum
        for i in 0..<4 { frame[12 + i] = UInt8(truncatingIfNeeded: checksum >> (8 * UInt32(i))) }
        return frame
    }

    private static func check(_ input: UnsafeRawBufferPointer) -> String {
        let message: Message
        do {
            message = try codec.decode(input)
        } catch {
            return "rejected (\(error.reasonName)): \(error)"
        }
        do {
            let frame = try codec.encode(message)
            let again = try codec.encode(try codec.decode(frame))
            guard again == frame else {
                preconditionFailure("re-encoding a decoded \(message.type) is not stable")
            }
            return "decoded \(message.type), re-encodes to \(frame.count) bytes"
        } catch {
            preconditionFailure("a decoded \(message.type) does not round-trip: \(error)")
        }
    }
}

#if THRESHER_FUZZING
/// libFuzzer's per-input callback.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    WireFuzzCheck.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// The process entry point (see `runFuzzerDriver` for why a target needs its own).
@_cdecl("WireFuzz_main")
public func wireFuzzMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    runFuzzerDriver(argc, argv, fuzzWireDecoder)
}
#else
/// Replays files through the decoder.
@main
enum WireFuzzReplay {
    static func main() {
        FuzzReplay.run(usage: "usage: wire-fuzz FILE|DIR...  (decodes each file as one frame; see scripts/fuzz)") { "\(WireFuzzCheck.run($0))" }
    }
}
#endif
