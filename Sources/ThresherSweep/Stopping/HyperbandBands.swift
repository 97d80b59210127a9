/// W&B's hyperband bands, and the checks `thresher sweep validate` prints.
///
/// The arithmetic is W&B's own, step for step in IEEE doubles, so band values agree with W&B
/// even where rounding matters (e.g. max_iter 363, eta 1.1: 363 / 1.1 / 1.1 = 300.0 → band 300,
/// where ⌊363 / 1.1²⌋ would give 299).
extension HyperbandStopping {
    /// W&B computes exactly this many bands from `min_iter`.
    public static let minIterBandCount = 100

    /// At most this many divisions of `max_iter` (W&B has no cap; only an eta a hair above 1
    /// with a huge `s` comes near it, and it keeps memory bounded).
    public static let maxIterDivisionLimit = 100_000

    /// The bands W&B uses for `spec`, ascending, duplicates kept (as W&B keeps them), at most `limit`.
    ///
    /// - `max_iter` with `s` (takes precedence over `min_iter`, as in W&B): x = max_iter, then s
    ///   times x = x / eta, ending at the first x < 1; each x contributes ⌊x⌋; sorted ascending.
    ///   max_iter 81, s 3 → [3, 9, 27]; 18, s 2 → [2, 6]; 100, s 3 → [3, 11, 33].
    ///   At most ``maxIterDivisionLimit`` divisions.
    /// - `min_iter`: x = min_iter, then x = x · eta; ⌊x⌋ for the first 100 values of x
    ///   (W&B stops at 100 bands; a band beyond `Int.max` is reported as `Int.max`).
    /// - Anything else (no band source, eta not > 1, s < 1) → `[]`: W&B rejects such settings.
    public static func bands(for spec: HyperbandSpec, limit: Int = minIterBandCount) -> [Int] {
        guard limit > 0, spec.eta.isFinite, spec.eta > 1 else { return [] }
        if let maxIter = spec.maxIter, let s = spec.s {
            var bands: [Int] = []
            var x = Double(maxIter)
            for _ in 0..<min(max(s, 0), maxIterDivisionLimit) {
                x /= spec.eta
                if x < 1 { break }
                bands.append(truncated(x))
            }
            return Array(bands.sorted().prefix(limit))
        }
        if let minIter = spec.minIter {
            var bands: [Int] = []
            var x = Double(minIter)
            for _ in 0..<min(minIterBandCount, limit) {
                bands.append(truncated(x))
                x *= spec.eta
            }
            return bands
        }
        return []
    }

    /// `hyperband: bands 2, 6, 18, 55, 166 (eta 3, strict)`; `min_iter` bands are shown up to 1,000,000.
    public static func summary(for spec: HyperbandSpec) -> String {
        let all = bands(for: spec)
        let shown = spec.maxIter != nil && spec.s != nil ? all : all.filter { $0 <= 1_000_000 }
        let list = shown.isEmpty ? "none" : shown.map(String.init).joined(separator: ", ")
        let more = shown.count < all.count ? ", …" : ""
        let mode = spec.strict ? "strict" : "not strict"
        return "hyperband: bands \(list)\(more) (eta \(NumberText.plain(spec.eta)), \(mode))"
    }

    /// Degenerate but accepted settings: bands that cannot be reached or repeat, an `s` larger
    /// than the number of usable bands, a setting with no band at all.
    public static func warnings(for spec: HyperbandSpec) -> [String] {
        var warnings: [String] = []
        guard spec.eta.isFinite, spec.eta > 1 else {
            return ["early_terminate.eta must be > 1 (found \(NumberText.plain(spec.eta))): hyperband has no bands and stops nothing"]
        }
        let all = bands(for: spec)
        if let maxIter = spec.maxIter, let s = spec.s {
            if spec.minIter != nil {
                warnings.append("early_terminate.min_iter is ignored: max_iter and s define the bands (as in W&B)")
            }
            if s < 1 {
                warnings.append("early_terminate.s must be ≥ 1 (found \(s)): hyperband has no bands and stops nothing")
            } else if all.isEmpty {
                warnings.append("early_terminate.max_iter \(maxIter) / eta \(NumberText.plain(spec.eta)) is below 1: hyperband has no bands and stops nothing")
            } else if all.count < s {
                warnings.append("early_terminate.s is \(s) but only \(all.count) of the bands max_iter / etaᵏ (k = 1…s) are ≥ 1: bands \(all.map(String.init).joined(separator: ", ")); the other \(s - all.count) are dropped")
            }
        } else if let minIter = spec.minIter {
            if minIter < 1 {
                warnings.append("early_terminate.min_iter must be ≥ 1 (found \(minIter)): bands below 1 are never used")
            }
            if let last = all.last, last < 1_000_000 {
                warnings.append("W&B computes only \(minIterBandCount) bands from min_iter; the last is \(last), so trials are not judged after iteration \(last)")
            }
        } else {
            warnings.append(spec.maxIter != nil
                ? "early_terminate.max_iter needs s: hyperband has no bands and stops nothing"
                : "early_terminate needs min_iter, or max_iter and s: hyperband has no bands and stops nothing")
        }
        var seen: Set<Int> = [], repeated: [Int] = []
        for band in all where band < Int.max && !seen.insert(band).inserted && !repeated.contains(band) { repeated.append(band) }
        if !repeated.isEmpty {
            warnings.append("bands repeat (\(repeated.map(String.init).joined(separator: ", "))): eta \(NumberText.plain(spec.eta)) is too small for distinct whole-number bands; a repeated band adds nothing")
        }
        return warnings
    }

    /// Python's `int(x)` for x ≥ 0, saturating at `Int.max` (an unreachable band).
    private static func truncated(_ x: Double) -> Int {
        x >= 9.2e18 ? Int.max : Int(x.rounded(.towardZero))
    }
}
