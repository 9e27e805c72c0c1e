import XCTest
@testable import UI

/// Every screen as text at 80x24 and 120x40, in colour (thumbnails are '▀' cells) and without
/// colour (thumbnails become a brightness ramp, so the picture itself is in the snapshot).
final class ScreenSnapshotTests: XCTestCase {
    static let sizes = [(80, 24), (120, 40)]

    func snapshot(_ name: String, _ make: (Int, Int, Theme) -> AppState) {
        for (c, r) in Self.sizes {
            assertSnapshot(render(make(c, r, .standard)), named: "\(name)-\(c)x\(r)")
        }
        assertSnapshot(render(make(80, 24, .mono)), named: "\(name)-80x24-mono")
    }

    func testScanning() {
        snapshot("scanning") { c, r, t in
            var s = AppState.fixture(cols: c, rows: r, theme: t)
            s.scan = .running(ScanProgressInfo(done: 57, total: 152, rate: 23.4, eta: 4.3, phase: "embedding"))
            return s
        }
    }

    func testScanFailed() {
        snapshot("scan-failed") { c, r, t in
            var s = AppState.fixture(cols: c, rows: r, theme: t)
            s = update(s, .scanFailed("model 'efficientnet-lite0' is not installed: run `make weights`")).0
            return s
        }
    }

    func testClusters() {
        snapshot("clusters") { c, r, t in AppState.loaded(cols: c, rows: r, theme: t).pressing(.right) }
    }

    func testClustersEmpty() {
        snapshot("clusters-empty") { c, r, t in
            update(AppState.fixture(cols: c, rows: r, theme: t), .scanFinished(ScanOutcome(images: []))).0
        }
    }

    func testCluster() {
        snapshot("cluster") { c, r, t in
            var s = AppState.loaded(cols: c, rows: r, theme: t).pressing(.enter, .right, .char("x"), .right, .char(" "))
            s.status = nil
            return s
        }
    }

    func testImage() {
        snapshot("image") { c, r, t in
            var s = AppState.loaded(cols: c, rows: r, theme: t).pressing(.enter, .enter)
            let lib = FakeLibrary()
            if case .image(let id)? = s.route.last {
                s = update(s, .similarReady(id: id, try! lib.similar(to: id, count: 12))).0
            }
            return s.pressing(.down)
        }
    }

    func testDuplicates() {
        snapshot("duplicates") { c, r, t in AppState.loaded(cols: c, rows: r, theme: t).pressing(.tab) }
    }

    func testHelp() {
        snapshot("help") { c, r, t in AppState.loaded(cols: c, rows: r, theme: t).pressing(.char("?")) }
    }

    func testConfirmPrompt() {
        snapshot("confirm-trash") { c, r, t in
            AppState.loaded(cols: c, rows: r, theme: t).pressing(.tab, .char("K"), .char("T"))
        }
    }

    func testFilterPrompt() {
        snapshot("filter") { c, r, t in
            AppState.loaded(cols: c, rows: r, theme: t).pressing(.char("/"), .char("c"), .char("a"), .char("t"))
        }
    }

    /// The key table as Markdown (docs/ui.md includes it), so the docs cannot drift from the table.
    func testKeyTableMarkdown() {
        let lines = HelpScreen.markdownTable().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var buf = ScreenBuffer(cols: 200, rows: lines.count)
        for (i, l) in lines.enumerated() { buf.put(l, x: 0, y: i) }
        assertSnapshot(buf, named: "keys-table")
    }

    func testTinyTerminalSaysSo() {
        let s = AppState.loaded(cols: 20, rows: 5)
        XCTAssertTrue(render(s).text().contains("need 30x8"))
    }

    func testThumbnailCellsCarryPixelColours() {
        let s = AppState.loaded(cols: 80, rows: 24)
        let buf = render(s)
        let g = GridLayout(size: s.size, captionLines: 2)
        // The first card's thumbnail centre is a half block coloured from the picture.
        let cell = buf[1 + g.thumbWidth / 2, g.top + g.thumbHeight / 2]
        XCTAssertEqual(cell.char, "▀")
        guard case .rgb = cell.style.fg, case .rgb = cell.style.bg else { return XCTFail("thumbnail cell has no colour: \(cell)") }
        // Without colour no cell carries a colour at all.
        let mono = render(AppState.loaded(cols: 80, rows: 24, theme: .mono))
        XCTAssertTrue(mono.cells.allSatisfy { $0.style.fg == .none && $0.style.bg == .none })
    }
}
