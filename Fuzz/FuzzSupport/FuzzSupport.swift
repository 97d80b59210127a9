// What every Thresher fuzzer executable shares: handing control to libFuzzer's driver in a
// fuzzing build, and replaying files through the target's check in a plain build.
import Foundation

#if THRESHER_FUZZING
/// libFuzzer's documented driver entry (`int LLVMFuzzerRunDriver(int *argc, char ***argv,
/// int (*callback)(const uint8_t *, size_t))`, LLVM ≥ 11).
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Runs libFuzzer's driver with the process's arguments and the target's per-input `callback`.
///
/// Why each target still declares its own `<Target>_main`: SwiftPM links an executable target
/// with `main` aliased to `<Target>_main`, which a fuzzing build (no `@main`) would otherwise leave
/// undefined; that symbol calls this, exactly what libFuzzer's own `main` does.
public func runFuzzerDriver(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}
#endif

/// The plain build's replay driver: `TOOL FILE|DIR...` runs `check` on each file (every regular
/// file directly inside a directory, sorted) and prints what it made of it, which is how an input
/// the fuzzer found is reproduced in a debugger.
public enum FuzzReplay {
    public static func run(usage: String, _ check: (UnsafeRawBufferPointer) -> String) {
        let paths = CommandLine.arguments.dropFirst()
        guard !paths.isEmpty else {
            print(usage)
            return
        }
        for path in paths {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    print("\(file): cannot read")
                    continue
                }
                print("\(file): \(data.withUnsafeBytes(check))")
            }
        }
    }

    /// `path` itself, or the regular files directly inside it when it is a directory, sorted.
    private static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
              let names = try? FileManager.default.contentsOfDirectory(atPath: path)
        else { return [path] }
        return names.sorted().map { (path as NSString).appendingPathComponent($0) }
    }
}
