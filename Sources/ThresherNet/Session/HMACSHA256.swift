import CMbedCrypto

/// HMAC-SHA256 (RFC 2104) through mbed TLS, the crypto library NNG already links for TLS.
///
/// Pure function of its inputs; safe from any thread.
enum HMACSHA256 {
    /// The 32-byte MAC of `message` under `key`.
    static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        // mbedtls_md_info_from_type returns nil only when SHA-256 is compiled out of mbed TLS,
        // which Debian's build never does; the result stays all-zero in that case and no proof
        // can ever verify, which fails closed.
        guard let info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256) else { return out }
        _ = key.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                out.withUnsafeMutableBufferPointer { o in
                    mbedtls_md_hmac(info, k.baseAddress, k.count, m.baseAddress, m.count, o.baseAddress)
                }
            }
        }
        return out
    }

    /// Compares two MACs in time independent of where they differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
