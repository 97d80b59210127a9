/// W1 preprocessing steps 1–3: lower-case, drop non-ASCII characters, split into Penn-Treebank-like
/// word tokens, drop tokens that are pure punctuation. Each step can be switched off.
///
/// Guarantees: a pure, deterministic function of (options, text) — no locale, no global state —
/// so a cached pipeline output can be keyed on `options.cacheDescription`. No token is empty or
/// contains whitespace.
///
/// The splitting follows the rules of NLTK's `TreebankWordTokenizer` (which `nltk.word_tokenize`,
/// used by the W1 notebook, applies after splitting sentences):
/// - brackets `( ) [ ] { } < >`, `; @ # $ % &`, `? !`, `"`, `--` and the LaTeX-style quotes
///   "``" and "''" (BoolQ's passages use them) are split off wherever they occur;
/// - `,` and `:` are split off unless a digit follows (so "1,000" and "10:30" stay whole);
/// - `...` is a token of its own;
/// - clitics become separate tokens: `'s 'm 'd 're 've 'll n't` ("don't" → "do" "n't",
///   "can't" → "ca" "n't", "they'll" → "they" "'ll"), and a trailing `'` ("students'" → "students" "'");
/// - "cannot gimme gonna gotta lemme wanna" are split in two ("can" "not", "gon" "na", ...), and
///   "'tis"/"'twas" into "'t" "is"/"was";
/// - a leading `"` or `'` that opens a quotation is split off; an opening `"` is written "``" and a
///   closing one "''", as Treebank writes them.
/// Where this differs from `nltk.word_tokenize`: Punkt's sentence splitter is replaced by one rule —
/// a word-final `.` is split off unless the word contains another `.` (so "u.s." and "e.g." stay,
/// "language." becomes "language" "."). Abbreviations such as "mr." and initials such as "c." are
/// therefore split ("mr" "."), where Punkt may keep them. Measured on BoolQ dev (3,270 questions and
/// passages, punctuation dropped): 3,269 questions give exactly NLTK's tokens; passages differ only
/// in such word-final periods.
///
/// Punctuation removal drops every token made only of ASCII punctuation (Python's
/// `string.punctuation`). The notebook compared tokens against the set of single punctuation
/// characters, so it kept multi-character tokens such as "``", "''", "..." and "--"; Thresher drops
/// them too, because they carry no meaning for the GRU and are not words.
public struct WordTokenizer: Sendable, Equatable, Hashable {
    /// Which steps run. All default to on, as in W1.
    public struct Options: Sendable, Equatable, Hashable, Codable {
        /// Step 1a: Unicode lower-casing (before non-ASCII removal, as the notebook's `lower()` then `encode('ascii', 'ignore')`).
        public var lowercase: Bool
        /// Step 1b: remove every character outside ASCII (accents, phonetic symbols, dashes such as "–").
        public var dropNonASCII: Bool
        /// Step 2: Treebank-like splitting; when off, the text is split on whitespace only.
        public var treebank: Bool
        /// Step 3: remove tokens made only of ASCII punctuation.
        public var dropPunctuation: Bool

        public init(lowercase: Bool = true, dropNonASCII: Bool = true, treebank: Bool = true, dropPunctuation: Bool = true) {
            self.lowercase = lowercase
            self.dropNonASCII = dropNonASCII
            self.treebank = treebank
            self.dropPunctuation = dropPunctuation
        }

        /// A stable one-line rendering, part of preprocessing cache keys.
        public var cacheDescription: String {
            "lowercase=\(lowercase),dropNonASCII=\(dropNonASCII),treebank=\(treebank),dropPunctuation=\(dropPunctuation)"
        }
    }

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    /// The tokens of `text`.
    public func tokenize(_ text: String) -> [String] {
        var text = text
        if options.lowercase { text = text.lowercased() }
        // Work on UTF-8 bytes: every split point is an ASCII byte, and bytes ≥ 0x80 (kept only when
        // non-ASCII removal is off) are always inside a word, so multi-byte characters are never cut.
        var bytes = Array(text.utf8)
        if options.dropNonASCII { bytes.removeAll { $0 >= 0x80 } }
        var out: [[UInt8]] = []
        for chunk in Self.whitespaceChunks(bytes) {
            if options.treebank { Self.splitChunk(chunk, into: &out) } else { out.append(chunk) }
        }
        if options.dropPunctuation { out.removeAll { $0.allSatisfy(Self.isPunctuation) } }
        return out.map { String(decoding: $0, as: UTF8.self) }
    }

    // MARK: - Character classes

    /// Python's `string.punctuation`: !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
    static func isPunctuation(_ b: UInt8) -> Bool {
        (0x21...0x2F).contains(b) || (0x3A...0x40).contains(b) || (0x5B...0x60).contains(b) || (0x7B...0x7E).contains(b)
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }
    static func isDigit(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) }

    /// Split everywhere: brackets, `;@#$%&`, `?!`, double quote.
    static func alwaysSplit(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"),
             UInt8(ascii: "}"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ";"), UInt8(ascii: "@"),
             UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "?"),
             UInt8(ascii: "!"):
            return true
        default:
            return false
        }
    }

    static func whitespaceChunks(_ bytes: [UInt8]) -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        var start: Int?
        for i in bytes.indices {
            if isSpace(bytes[i]) {
                if let s = start { chunks.append(Array(bytes[s..<i])); start = nil }
            } else if start == nil {
                start = i
            }
        }
        if let s = start { chunks.append(Array(bytes[s...])) }
        return chunks
    }

    // MARK: - Splitting one whitespace-free chunk

    private static let quote = UInt8(ascii: "\"")
    private static let apostrophe = UInt8(ascii: "'")
    private static let openQuote: [UInt8] = Array("``".utf8)
    private static let closeQuote: [UInt8] = Array("''".utf8)

    /// Splits a chunk at the always-split characters, `--`, `...`, and `,`/`:` not followed by a
    /// digit; then each remaining piece goes through `splitWord` (quotes, periods, clitics).
    static func splitChunk(_ chunk: [UInt8], into out: inout [[UInt8]]) {
        var piece: [UInt8] = []
        // Whether a `"` opens a quotation: at the start of the chunk or after an opening bracket,
        // as Treebank's starting-quote rules decide.
        var atQuoteStart = true
        func flush() {
            if !piece.isEmpty { splitWord(piece, into: &out); piece.removeAll(keepingCapacity: true) }
        }
        var i = 0
        while i < chunk.count {
            let b = chunk[i]
            let next: UInt8? = i + 1 < chunk.count ? chunk[i + 1] : nil
            if b == quote {
                flush()
                out.append(atQuoteStart ? openQuote : closeQuote)
                i += 1
                continue
            }
            if alwaysSplit(b) {
                flush()
                out.append([b])
                atQuoteStart = "([{<".utf8.contains(b)
                i += 1
                continue
            }
            if (b == UInt8(ascii: ",") || b == UInt8(ascii: ":")), !(next.map(isDigit) ?? false) {
                flush()
                out.append([b])
                atQuoteStart = false
                i += 1
                continue
            }
            // LaTeX-style quotes, which BoolQ's passages use ("``energy returned''"): split anywhere.
            if (b == UInt8(ascii: "`") || b == apostrophe), next == b {
                flush()
                out.append(b == apostrophe ? closeQuote : openQuote)
                atQuoteStart = b == UInt8(ascii: "`")
                i += 2
                continue
            }
            if b == UInt8(ascii: "-"), next == UInt8(ascii: "-") {
                flush()
                out.append(Array("--".utf8))
                atQuoteStart = false
                i += 2
                continue
            }
            if b == UInt8(ascii: "."), next == UInt8(ascii: "."), i + 2 < chunk.count, chunk[i + 2] == UInt8(ascii: ".") {
                flush()
                out.append(Array("...".utf8))
                atQuoteStart = false
                i += 3
                continue
            }
            piece.append(b)
            atQuoteStart = false
            i += 1
        }
        flush()
    }

    /// Contractions Treebank splits inside one word (compared lower-cased; the original case is kept).
    private static let wholeWordSplits: [(String, Int)] = [
        ("cannot", 3), ("gimme", 3), ("gonna", 3), ("gotta", 3), ("lemme", 3), ("wanna", 3),
        ("d'ye", 1), ("more'n", 4), ("'tis", 2), ("'twas", 2),
    ]

    /// Clitics split off the end of a word (the first that matches).
    private static let clitics: [[UInt8]] = ["n't", "'ll", "'re", "'ve", "'s", "'m", "'d"].map { Array($0.utf8) }

    /// A piece free of always-split characters: leading opening `'`, the word-final period rule,
    /// then clitics.
    static func splitWord(_ word: [UInt8], into out: inout [[UInt8]]) {
        var word = ArraySlice(word)
        var tail: [[UInt8]] = []
        // A leading apostrophe opens a quotation unless it starts a clitic or "'tis"/"'twas" ("'s", "'em").
        if word.count > 1, word.first == apostrophe, !startsWithClitic(word) {
            out.append([apostrophe])
            word = word.dropFirst()
        }
        // Word-final period (Punkt stand-in, see the type's documentation); a word with an
        // inner period is an abbreviation such as "u.s." and stays whole.
        if word.count > 1, word.last == UInt8(ascii: "."), !word.dropLast().contains(UInt8(ascii: ".")) {
            tail.append([UInt8(ascii: ".")])
            word = word.dropLast()
        }
        // A trailing apostrophe: "students'" → "students" "'" ("''" never gets here: splitChunk splits it).
        if word.count > 1, word.last == apostrophe {
            tail.insert([apostrophe], at: 0)
            word = word.dropLast()
        }
        let lower = word.map(asciiLower)
        if let (_, cut) = wholeWordSplits.first(where: { $0.0.utf8.elementsEqual(lower) }) {
            out.append(Array(word.prefix(cut)))
            out.append(Array(word.dropFirst(cut)))
            out.append(contentsOf: tail)
            return
        }
        for clitic in clitics where lower.count > clitic.count && lower.suffix(clitic.count).elementsEqual(clitic) {
            // Treebank requires the character before the clitic not to be an apostrophe.
            if lower[lower.count - clitic.count - 1] == apostrophe { continue }
            out.append(Array(word.dropLast(clitic.count)))
            out.append(Array(word.suffix(clitic.count)))
            out.append(contentsOf: tail)
            return
        }
        if !word.isEmpty { out.append(Array(word)) }
        out.append(contentsOf: tail)
    }

    /// Words that start with an apostrophe that is part of the word, not an opening quote.
    private static let apostropheWords: Set<[UInt8]> =
        Set(["'s", "'m", "'d", "'ll", "'re", "'ve", "'t", "'n", "'em", "'tis", "'twas"].map { Array($0.utf8) })

    private static func startsWithClitic(_ word: ArraySlice<UInt8>) -> Bool {
        apostropheWords.contains(word.map(asciiLower))
    }

    @inline(__always)
    static func asciiLower(_ b: UInt8) -> UInt8 { (0x41...0x5A).contains(b) ? b | 0x20 : b }
}
