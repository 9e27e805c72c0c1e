import XCTest
@testable import UI

final class ScreenBufferTests: XCTestCase {
    func testWideCharactersTakeTwoCellsAndAreRepairedWhenCut() {
        var b = ScreenBuffer(cols: 6, rows: 1)
        XCTAssertEqual(b.put("a猫b", x: 0, y: 0), 4)
        XCTAssertEqual(b[1, 0].width, 2)
        XCTAssertTrue(b[2, 0].isContinuation)
        XCTAssertEqual(b.text(), "a猫b")
        b.set(2, 0, Cell("x"))   // overwrite the right half
        XCTAssertEqual(b.text(), "a xb")
        // A wide character that would straddle the edge is not drawn half.
        var c = ScreenBuffer(cols: 3, rows: 1)
        c.put("ab猫", x: 0, y: 0)
        XCTAssertEqual(c.text(), "ab")
    }

    func testControlCharactersInNamesCannotBreakTheLayout() {
        var b = ScreenBuffer(cols: 10, rows: 2)
        b.put("a\nb\u{1b}c", x: 0, y: 0)
        XCTAssertEqual(b.text(), "a?b?c\n")
    }

    func testCombiningMarksStayWithTheirLetter() {
        XCTAssertEqual(TextWidth.of("e\u{301}te\u{301}"), 3)
        XCTAssertEqual(TextWidth.of("📷"), 2)
        XCTAssertEqual(TextWidth.truncate("photograph.jpg", 8), "photogr…")
        XCTAssertEqual(TextWidth.truncateLeft("/a/b/photo.jpg", 10), "…photo.jpg")
        XCTAssertEqual(TextWidth.pad("猫", 4), "猫  ")
    }

    func testClippingAtEdges() {
        var b = ScreenBuffer(cols: 4, rows: 2)
        b.put("hello", x: 2, y: 1)
        b.put("zz", x: -1, y: 0)
        b.fill(x: -5, y: -5, width: 100, height: 1, char: "#")
        XCTAssertEqual(b.text(), "z\n  he")
    }

    func testThumbnailKeepsAspectAndAverages() {
        // 4x2 picture, left half black, right half white, drawn into 4x1 cells: 4x2 pixels exactly.
        var px = [UInt8](repeating: 0, count: 4 * 2 * 3)
        for y in 0..<2 { for x in 2..<4 { for c in 0..<3 { px[(y * 4 + x) * 3 + c] = 255 } } }
        var b = ScreenBuffer(cols: 4, rows: 1)
        ThumbnailView.draw(Thumbnail(width: 4, height: 2, pixels: px), into: &b, x: 0, y: 0, width: 4, height: 1, theme: .standard)
        XCTAssertEqual(b[0, 0].style.fg, .rgb(0, 0, 0))
        XCTAssertEqual(b[3, 0].style.bg, .rgb(255, 255, 255))
        let half = ThumbnailView.resample(Thumbnail(width: 4, height: 2, pixels: px), width: 1, height: 1)
        XCTAssertEqual(half, [127, 127, 127])
        var m = ScreenBuffer(cols: 4, rows: 1)
        ThumbnailView.draw(Thumbnail(width: 4, height: 2, pixels: px), into: &m, x: 0, y: 0, width: 4, height: 1, theme: .mono)
        XCTAssertEqual(m.text(), "  @@")
    }

    func testNoColorEnvironmentPicksMono() {
        XCTAssertEqual(Theme.forEnvironment(["NO_COLOR": "1"], terminalHasColor: true), .mono)
        XCTAssertEqual(Theme.forEnvironment(["NO_COLOR": ""], terminalHasColor: true), .standard)
        XCTAssertEqual(Theme.forEnvironment([:], terminalHasColor: false), .mono)
    }

    func testMarkdownTableListsEveryBinding() {
        let md = HelpScreen.markdownTable()
        XCTAssertEqual(md.split(separator: "\n").count, KeyBindings.table.count + 2)
        XCTAssertTrue(md.contains("| `T` | everywhere | Move rejected files to the Trash (asks first) |"))
    }
}
