import ThresherWire

/// The two MACs of the v1 handshake, computed the same way on both sides (docs/protocol.md,
/// "Handshake"):
///
///     proof     = HMAC-SHA256(token, "thresher/1 proof"   ‖ clientNonce ‖ serverNonce ‖ u32le(len) ‖ workerID)
///     serverMac = HMAC-SHA256(token, "thresher/1 welcome" ‖ clientNonce ‖ serverNonce ‖ u64le(sessionID))
///
/// Both nonces are fresh per handshake, so a recorded proof is useless for another handshake,
/// and the distinct labels keep a worker's proof from being replayed as a coordinator's MAC.
struct HandshakeTranscript: Sendable {
    let clientNonce: Digest32
    let serverNonce: Digest32

    func proof(token: ClusterToken, workerID: String) -> Digest32 {
        var message = Array("thresher/1 proof".utf8)
        message += clientNonce.bytes
        message += serverNonce.bytes
        let id = Array(workerID.utf8)
        appendLittleEndian(UInt32(truncatingIfNeeded: id.count), to: &message)
        message += id
        return Self.digest(HMACSHA256.mac(key: token.secret, message: message))
    }

    func serverMac(token: ClusterToken, sessionID: UInt64) -> Digest32 {
        var message = Array("thresher/1 welcome".utf8)
        message += clientNonce.bytes
        message += serverNonce.bytes
        appendLittleEndian(sessionID, to: &message)
        return Self.digest(HMACSHA256.mac(key: token.secret, message: message))
    }

    /// A fresh 32-byte nonce from the system's CSPRNG (getrandom on Linux).
    static func freshNonce() -> Digest32 {
        var rng = SystemRandomNumberGenerator()
        return digest((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }

    private static func digest(_ bytes: [UInt8]) -> Digest32 {
        // Both callers pass exactly 32 bytes (HMAC-SHA256 output, or 32 random bytes).
        Digest32(bytes) ?? .zero
    }

    private func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}
