import Foundation
import XCTest

/// Debian's `chromium` run headless to render a page to PNG, with the page's console captured.
///
/// Console detection: with `--enable-logging=stderr --v=0` Chromium logs every console message of
/// the page on stderr as a line holding `:CONSOLE` (`INFO:CONSOLE:1] "Uncaught ReferenceError: …"`,
/// `… "Error: <path> attribute d: Expected number, …"`): uncaught script errors and SVG attribute
/// parse errors alike. A report has no script, so any such line is a fault.
/// `testTheConsoleCheckSeesADeliberateError` proves the check can fail.
struct HeadlessChromium {
    let executable: String

    struct Render {
        var png: Data
        var consoleLines: [String]
        var stderr: String
    }

    /// The installed browser, or a skip saying how to install it.
    static func installed() throws -> HeadlessChromium {
        for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return HeadlessChromium(executable: candidate)
        }
        throw XCTSkip("headless Chromium is not installed (apt-get install --no-install-recommends chromium; scripts/setup lists it)")
    }

    /// Renders `page` (an HTML file) at `width`×`height` into a PNG next to it.
    func screenshot(_ page: URL, width: Int = 1280, height: Int = 4000) throws -> Render {
        let folder = page.deletingLastPathComponent()
        let png = folder.appendingPathComponent(page.deletingPathExtension().lastPathComponent + ".png")
        let profile = folder.appendingPathComponent("chromium-profile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                             "--user-data-dir=\(profile.path)", "--enable-logging=stderr", "--v=0",
                             "--screenshot=\(png.path)", "--window-size=\(width),\(height)", page.absoluteString]
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = profile.path
        process.environment = environment
        let err = folder.appendingPathComponent("chromium-stderr-\(UUID().uuidString).txt")
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let handle = try FileHandle(forWritingTo: err)
        defer { try? FileManager.default.removeItem(at: err) }
        process.standardError = handle
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // A hung browser must not hang the suite: 90 s is far beyond the ~2 s a render takes.
        let deadline = Date().addingTimeInterval(90)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate(); process.waitUntilExit(); throw ChromiumError("chromium did not finish in 90 s") }
        try handle.close()
        let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else { throw ChromiumError("chromium exited \(process.terminationStatus): \(stderr.suffix(2000))") }
        let data = try Data(contentsOf: png)
        return Render(png: data, consoleLines: stderr.split(separator: "\n").map(String.init).filter { $0.contains(":CONSOLE") },
                      stderr: stderr)
    }

    struct ChromiumError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// The dimensions in a PNG's IHDR chunk (the first chunk, right after the 8-byte signature).
enum PNGHeader {
    static func size(_ data: Data) -> (width: Int, height: Int)? {
        let bytes = [UInt8](data.prefix(24))
        guard bytes.count == 24, bytes[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
              String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR" else { return nil }
        func be32(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }
}
