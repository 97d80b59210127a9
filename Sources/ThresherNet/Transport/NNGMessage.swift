import CNNG

/// Sole owner of one `nng_msg`.
///
/// Guarantees: the message is freed exactly once — by `deinit`, unless ownership was handed to
/// NNG first with `release()`. Being `~Copyable`, the compiler rejects any second owner.
///
/// NNG's ownership rules this type encodes:
/// - a received message (`nng_recvmsg`, `nng_aio_get_msg` after a successful receive) is ours:
///   adopt it with `init(adopting:)`;
/// - `nng_sendmsg` and an aio send take the message **only on success**. Call `release()` just
///   before handing it over; if the send fails, take the pointer back
///   (`nng_aio_get_msg`) and adopt it again so it is freed.
struct NNGMessage: ~Copyable {
    private let raw: OpaquePointer

    /// Adopts a message that NNG handed to us.
    init(adopting raw: OpaquePointer) {
        self.raw = raw
    }

    /// A new message whose body is a copy of `bytes`.
    init(copying bytes: [UInt8]) throws(NetError) {
        var msg: OpaquePointer?
        try nngCheck(nng_msg_alloc(&msg, bytes.count), "allocate a \(bytes.count)-byte message")
        guard let msg else { throw NetError(NNG_ENOMEM, operation: "allocate a message") }
        bytes.withUnsafeBytes { source in
            // nng_msg_alloc(size) gives a body of exactly `size` bytes.
            if let base = source.baseAddress, let body = nng_msg_body(msg) {
                body.copyMemory(from: base, byteCount: source.count)
            }
        }
        self.raw = msg
    }

    /// A copy of the body as a Swift array (the one copy out of NNG's buffer).
    var bytes: [UInt8] {
        let count = nng_msg_len(raw)
        guard count > 0, let body = nng_msg_body(raw) else { return [] }
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard let destination = buffer.baseAddress else { return }
            destination.initialize(from: body.assumingMemoryBound(to: UInt8.self), count: count)
            initialized = count
        }
    }

    /// The connection the message arrived on (meaningful for received messages).
    var pipe: PipeID { PipeID(raw: nng_msg_get_pipe(raw).id) }

    /// Gives up ownership without freeing; the caller now owns the pointer.
    consuming func release() -> OpaquePointer {
        let raw = self.raw
        discard self
        return raw
    }

    deinit { nng_msg_free(raw) }
}
