// The sweep-file parser fuzzer.
//
// Built by `scripts/fuzz sweep` with `-sanitize=fuzzer -DTHRESHER_FUZZING`: libFuzzer supplies
// `main` and calls `LLVMFuzzerTestOneInput` with generated inputs. Built plainly (`swift build`)
// it is a replay driver instead: `sweep-fuzz FILE|DIR...` parses each file (every file of a
// directory) and prints what the parser made of it, which is how a crashing input found by the
// fuzzer is reproduced in a debugger.
import Foundation
import FuzzSupport
import ThresherSweep

/// What the fuzzer checks for one input: the path a user's file takes (text → YAML tree → validated
/// `SweepSpec`), plainly and with a `--set` override applied. Parsing may fail, with
/// `SweepFileErrors`, but must never trap, hang or exhaust the stack; a failure must carry at least
/// one error with a message; a parse must be deterministic (the same text gives the same spec or
/// the same errors); the text an override produces must itself parse. A broken invariant stops the
/// process on purpose: that is how libFuzzer recognises a finding.
enum SweepFuzzCheck {
    /// The override exercised on every input: a key every sweep file may carry.
    static let overrides: SweepOverrides? = try? SweepOverrides(arguments: ["name=fuzzed"], workingDirectory: "/")

    /// Returns a one-line summary for the replay driver.
    @discardableResult
    static func run(_ input: UnsafeRawBufferPointer) -> String {
        let text = String(decoding: input, as: UTF8.self)
        let first = outcome(text)
        let second = outcome(text)
        guard first == second else { preconditionFailure("parsing the same text twice differs:\n\(first)\n\(second)") }
        guard let overrides else { preconditionFailure("the fuzzer's own override does not parse") }
        let overridden: String
        do {
            let effective = try overrides.parse(text, fileName: "fuzz.yaml")
            // The effective text is what a coordinator stores and parses again on restart.
            do { _ = try SweepFileParser.parse(effective.text, fileName: "effective.yaml") } catch {
                preconditionFailure("the text of an overridden sweep does not parse again: \(error)")
            }
            overridden = "parses with --set name=fuzzed"
        } catch {
            guard error.errors.contains(where: { !$0.message.isEmpty }) else {
                preconditionFailure("an override failure carries no error message")
            }
            overridden = "refused with --set name=fuzzed (\(error.errors.count) errors)"
        }
        return "\(first.summary); \(overridden)"
    }

    /// The parse of `text` as comparable text: the spec's description or every diagnostic.
    private struct Outcome: Equatable {
        var summary: String
        var detail: String
    }

    private static func outcome(_ text: String) -> Outcome {
        do {
            let parsed = try SweepFileParser.parse(text, fileName: "fuzz.yaml")
            return Outcome(summary: "parses: \(parsed.spec.method) with \(parsed.spec.parameters.count) parameters, "
                               + "\(parsed.warnings.count) warnings",
                           detail: String(describing: parsed))
        } catch {
            guard !error.errors.isEmpty, error.errors.allSatisfy({ !$0.message.isEmpty }) else {
                preconditionFailure("a refused sweep file carries no error message: \(error)")
            }
            return Outcome(summary: "refused (\(error.errors.count) errors, first: \(error.errors[0].message))",
                           detail: String(describing: error))
        }
    }
}

#if THRESHER_FUZZING
/// libFuzzer's per-input callback.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSweepParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    SweepFuzzCheck.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// The process entry point (see `runFuzzerDriver` for why a target needs its own).
@_cdecl("SweepFuzz_main")
public func sweepFuzzMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    runFuzzerDriver(argc, argv, fuzzSweepParser)
}
#else
/// Replays files through the parser.
@main
enum SweepFuzzReplay {
    static func main() {
        FuzzReplay.run(usage: "usage: sweep-fuzz FILE|DIR...  (parses each file as a sweep file; see scripts/fuzz)") { "\(SweepFuzzCheck.run($0))" }
    }
}
#endif
