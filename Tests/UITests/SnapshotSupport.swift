import XCTest
@testable import UI

/// Compares a frame with Snapshots/NAME.txt. With RECORD_SNAPSHOTS=1 it writes the file instead;
/// otherwise a mismatch fails with the differing lines side by side.
func assertSnapshot(_ buffer: ScreenBuffer, named name: String, file: StaticString = #filePath, line: UInt = #line) {
    let dir = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Snapshots")
    let url = dir.appendingPathComponent(name + ".txt")
    let actual = buffer.text() + "\n"
    if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1" {
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? actual.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
        XCTFail("no snapshot \(url.path); record it with RECORD_SNAPSHOTS=1", file: file, line: line)
        return
    }
    guard expected != actual else { return }
    let e = expected.components(separatedBy: "\n"), a = actual.components(separatedBy: "\n")
    var report = "snapshot \(name) differs (RECORD_SNAPSHOTS=1 re-records):\n"
    for i in 0..<max(e.count, a.count) {
        let el = i < e.count ? e[i] : "<none>", al = i < a.count ? a[i] : "<none>"
        if el != al { report += String(format: "%3d", i) + " expected: |\(el)|\n    actual:   |\(al)|\n" }
    }
    XCTFail(report, file: file, line: line)
}
