import XCTest
@testable import ThresherWire

/// Decoding is total: 100,000+ damaged frames, each of which must decode to a valid message
/// or throw a `WireError` — never trap, hang or allocate without bound.
///
/// Half of the mutations fix up the CRC (and, where the damage changes the size, the length
/// field) afterwards, so they reach the payload parser and zstd instead of stopping at the
/// checksum. Every message that does decode must survive encode → decode again.
final class MutationTests: XCTestCase {
    private let codec = FrameCodec()

    func testHundredThousandMutatedFramesNeverTrap() throws {
        var rng = SplitMix64(seed: 0x6D75_7461_7465)
        let seeds = try seedFrames(rng: &rng)
        var outcomes: [String: Int] = [:]
        let mutationsPerFrame = 100_000 / seeds.count + 1

        for frame in seeds {
            for _ in 0..<mutationsPerFrame {
                var mutated = frame
                let fixUp = Bool.random(using: &rng)
                mutate(&mutated, rng: &rng, fixUpLength: fixUp)
                if fixUp { TestFrames.fixChecksum(&mutated) }
                do {
                    let message = try codec.decode(mutated)
                    outcomes["decoded", default: 0] += 1
                    // Whatever is accepted must be a message this codec can send back.
                    let again = try codec.encode(message)
                    XCTAssertEqual(try codec.encode(codec.decode(again)), again)
                } catch {
                    outcomes[error.reasonName, default: 0] += 1
                }
            }
        }
        let total = outcomes.values.reduce(0, +)
        XCTAssertGreaterThanOrEqual(total, 100_000)
        // The parser, not only the checksum, must have been exercised.
        for reason in ["checksumMismatch", "truncated", "trailingBytes", "unknownEnumValue", "invalidBool",
                       "countExceedsInput", "invalidUTF8", "unknownFlags", "unknownMessageType",
                       "unsupportedVersion", "badMagic", "frameTooLarge", "decompressionFailed", "decoded"] {
            XCTAssertGreaterThan(outcomes[reason, default: 0], 0, "no mutation produced \(reason): \(outcomes)")
        }
        print("mutation outcomes:", outcomes.sorted { $0.value > $1.value }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    }

    /// Valid frames of every type, small enough to keep the test fast in debug builds, plus
    /// compressed ones so that zstd sees damaged input too.
    private func seedFrames(rng: inout SplitMix64) throws -> [[UInt8]] {
        var generator = RandomMessages(seed: rng.next())
        var frames: [[UInt8]] = try Samples.all.map { try codec.encode($0.message) }
        frames.append(try codec.encode(Samples.compressedReport))
        var compressed = 1
        while frames.count < 400 {
            let frame = try codec.encode(generator.message())
            let isCompressed = frame[7] != 0
            guard frame.count <= 2048 || (isCompressed && compressed < 40) else { continue }
            if isCompressed { compressed += 1 }
            frames.append(frame)
        }
        // Compressed frames with tiny payloads decode fastest: add level-1 compressions of samples.
        let eager = FrameCodec(compressionThreshold: 0)
        for (_, message) in Samples.all {
            let frame = try eager.encode(message)
            if frame[7] != 0 { frames.append(frame) }
        }
        return frames
    }

    /// One random kind of damage. With `fixUpLength`, size-changing damage to the payload also
    /// rewrites the header's length so that the parser, not the framing, sees it.
    private func mutate(_ frame: inout [UInt8], rng: inout SplitMix64, fixUpLength: Bool) {
        let payloadStart = FrameHeader.byteCount
        func randomIndex(from start: Int = 0) -> Int { Int.random(in: start..<max(start + 1, frame.count), using: &rng) }
        switch Int.random(in: 0..<10, using: &rng) {
        case 0, 1:  // Flip 1–3 bits anywhere.
            for _ in 0..<Int.random(in: 1...3, using: &rng) where !frame.isEmpty {
                frame[randomIndex()] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            }
        case 2, 3:  // Overwrite a payload byte with a random or an edge value.
            guard frame.count > payloadStart else { return }
            let value = Bool.random(using: &rng) ? UInt8.random(in: 0...255, using: &rng) : oneOf([0, 1, 2, 0x7F, 0x80, 0xFF], &rng)
            frame[randomIndex(from: payloadStart)] = value
        case 4:  // Overwrite a u32 in the payload (counts and lengths) with a large value.
            guard frame.count >= payloadStart + 4 else { return }
            let at = Int.random(in: payloadStart...(frame.count - 4), using: &rng)
            let value = oneOf([UInt32.max, 0x8000_0000, 0x0100_0000, UInt32.random(in: 0...4096, using: &rng)], &rng)
            for i in 0..<4 { frame[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
        case 5:  // Truncate.
            frame.removeLast(Int.random(in: 0...frame.count, using: &rng))
            if fixUpLength { setLength(&frame) }
        case 6:  // Extend with random bytes.
            frame += (0..<Int.random(in: 1...16, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if fixUpLength { setLength(&frame) }
        case 7:  // Delete or insert bytes inside the payload.
            guard frame.count > payloadStart else { return }
            let at = randomIndex(from: payloadStart)
            if Bool.random(using: &rng) {
                frame.removeSubrange(at..<min(frame.count, at + Int.random(in: 1...8, using: &rng)))
            } else {
                frame.insert(contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
            }
            if fixUpLength { setLength(&frame) }
        default:  // Tamper with a header field.
            guard frame.count >= payloadStart else { return }
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: frame[Int.random(in: 0..<4, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 1: frame[4] = UInt8.random(in: 0...3, using: &rng)
            case 2: frame[5] = UInt8.random(in: 0...255, using: &rng)
            case 3: frame[6] = Bool.random(using: &rng) ? oneOf(MessageType.allCases, &rng).rawValue : UInt8.random(in: 0...255, using: &rng)
            case 4: frame[7] = UInt8.random(in: 0...3, using: &rng)
            default: frame[8 + Int.random(in: 0..<4, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
        }
    }

    private func oneOf<T>(_ choices: [T], _ rng: inout SplitMix64) -> T {
        choices[Int.random(in: 0..<choices.count, using: &rng)]
    }

    private func setLength(_ frame: inout [UInt8]) {
        guard frame.count >= FrameHeader.byteCount else { return }
        let length = UInt32(frame.count - FrameHeader.byteCount)
        for i in 0..<4 { frame[8 + i] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(i))) }
    }
}
