/// "Did you mean …?" for keys and enumerated values of a sweep file.
///
/// A word is a near miss of a known word when the two are equal ignoring case, or when their
/// edit distance (insertions, deletions, substitutions, adjacent swaps) is at most 2 and smaller
/// than the known word's length, so that a one- or two-letter key such as `q` or `mu` is not
/// "suggested" for any unrelated short word.
public enum KeySuggestion {
    /// The closest known word, if `word` is a near miss of one; ties go to the earlier word in `known`.
    public static func nearMiss(of word: String, among known: [String]) -> String? {
        let lowered = word.lowercased()
        if let caseOnly = known.first(where: { $0.lowercased() == lowered }) { return caseOnly }
        var best: (word: String, distance: Int)?
        for candidate in known {
            let distance = editDistance(lowered, candidate.lowercased())
            guard distance <= 2, distance < candidate.count else { continue }
            if best.map({ distance < $0.distance }) ?? true { best = (candidate, distance) }
        }
        return best?.word
    }

    /// Edit distance with adjacent transpositions (optimal string alignment): insertions,
    /// deletions, substitutions and swaps of two neighbouring characters each cost 1, so the
    /// common typo `valeus` is one edit from `values` (and two from `value`).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var beforePrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], beforePrevious[j - 2] + 1)
                }
            }
            (beforePrevious, previous, current) = (previous, current, beforePrevious)
        }
        return previous[b.count]
    }
}
