import COpenBLAS

/// Matrix products through OpenBLAS's `cblas_sgemm`, row-major, with transposes expressed as
/// flags instead of copies. The only place in Thresher that calls `cblas_*`.
public enum BLAS {
    /// Whether an operand is read as stored or transposed.
    public enum Transpose: Sendable {
        case none, transpose
        var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
    }

    /// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, all row-major.
    ///
    /// `lda`/`ldb`/`ldc` are the row strides of the matrices as stored (for an untransposed
    /// row-major A that is k, for a transposed one m). Callers pass pointers into buffers they own;
    /// sizes are the caller's contract: layers derive them from shapes they checked when they
    /// were built, never from file input.
    public static func sgemm(
        _ transA: Transpose, _ transB: Transpose,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, transA.cblas, transB.cblas,
                    blasint(m), blasint(n), blasint(k),
                    alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// Threads OpenBLAS uses in this process. The worker sets 1 per trial slot (one trial per
    /// core); measured on 2-core machines, 2 threads gave no reliable gain (PLATFORM.md).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(clamping: max(1, newValue))) }
    }
}
