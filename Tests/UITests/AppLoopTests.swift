import XCTest
@testable import UI

/// The run loop with a scripted terminal and the fake library: effects really run on the
/// background queue and their results come back as messages.
final class AppLoopTests: XCTestCase {
    func testScanClusterNavigateFlagQuit() {
        let lib = FakeLibrary()
        let app = App(service: lib, state: .fixture())
        let term = ScriptedTerminal(size: TerminalSize(cols: 80, rows: 24),
                                    events: [.resize(TerminalSize(cols: 80, rows: 24)), .resize(TerminalSize(cols: 80, rows: 24)), .key(.enter), .key(.char("x")), .resize(TerminalSize(cols: 120, rows: 40)), .key(.char("q"))])
        // Let background work land before each key, as a user would wait.
        term.beforeEvent = { app.waitForEffects() }
        let status = app.run(on: term, pollMilliseconds: 1)
        XCTAssertEqual(status, 0)
        XCTAssertTrue(app.state.shouldQuit)
        XCTAssertEqual(lib.flags, [0: .reject])
        XCTAssertEqual(lib.calls.prefix(3), ["scan", "clusters(auto)", "duplicates"])
        XCTAssertTrue(lib.calls.contains("setFlag(reject, [0])"))
        XCTAssertEqual(term.frames.last?.cols, 120, "resize redraws at the new size")
        XCTAssertTrue(term.frames.contains { $0.text().contains("seashore, coast · 4 images") })
    }

    func testSignalEndsTheLoopWithItsStatus() {
        let lib = FakeLibrary()
        let app = App(service: lib, state: .fixture())
        let term = ScriptedTerminal(size: TerminalSize(cols: 80, rows: 24), events: [])
        term.pendingSignal = 15
        XCTAssertEqual(app.run(on: term, pollMilliseconds: 1), 143)
    }

    func testScanFailureIsShownAndRetried() {
        let lib = FakeLibrary()
        lib.failScan = "/photos: permission denied"
        let app = App(service: lib, state: .fixture())
        app.dispatch(.key(.char("?")))
        app.dispatch(.key(.escape))
        app.start(initialEffects(app.state))
        app.waitForEffects(); app.drainInbox()
        XCTAssertEqual(app.state.scan, .failed("/photos: permission denied"))
        XCTAssertTrue(render(app.state).text().contains("/photos: permission denied"))
        lib.failScan = nil
        app.dispatch(.key(.char("r")))
        app.waitForEffects(); app.drainInbox()
        app.waitForEffects(); app.drainInbox()
        XCTAssertEqual(app.state.images.count, 14)
        XCTAssertNotNil(app.state.clustering)
    }

    func testTrashAndUndoGoThroughTheService() {
        let lib = FakeLibrary()
        let app = App(service: lib, state: .fixture())
        app.start(initialEffects(app.state))
        for _ in 0..<3 { app.waitForEffects(); app.drainInbox() }
        for k: Key in [.tab, .char("K"), .char("T"), .char("y")] { app.dispatch(.key(k)) }
        for _ in 0..<3 { app.waitForEffects(); app.drainInbox() }
        XCTAssertEqual(lib.moved, [[5, 9]])
        XCTAssertEqual(app.state.removed, [5, 9])
        XCTAssertTrue(app.state.status!.text.contains("Moved 2 files to the Trash"))
        app.dispatch(.key(.char("u")))
        for _ in 0..<3 { app.waitForEffects(); app.drainInbox() }
        XCTAssertEqual(lib.moved, [])
        XCTAssertEqual(app.state.removed, [])
        XCTAssertEqual(app.state.visibleDuplicates.count, 2)
    }
}
