/// A colour as the views ask for it. The terminal backend reduces it to what the terminal can show
/// (24-bit, the 256-colour palette, or nothing), so views never care about terminal capabilities.
public enum Color: Hashable, Sendable {
    /// The terminal's own default foreground or background.
    case none
    /// An entry of the xterm 256-colour palette.
    case indexed(UInt8)
    case rgb(UInt8, UInt8, UInt8)
}

public struct Style: Hashable, Sendable {
    public var fg: Color
    public var bg: Color
    public var bold: Bool
    public var dim: Bool
    public var reverse: Bool
    public var underline: Bool

    public init(fg: Color = .none, bg: Color = .none, bold: Bool = false, dim: Bool = false,
                reverse: Bool = false, underline: Bool = false) {
        self.fg = fg; self.bg = bg; self.bold = bold; self.dim = dim; self.reverse = reverse; self.underline = underline
    }

    public static let plain = Style()
}

/// One terminal cell. A wide grapheme occupies its cell (width 2) and the next one, which is a
/// continuation (width 0) that backends skip.
public struct Cell: Hashable, Sendable {
    public var char: Character
    public var width: UInt8
    public var style: Style

    public init(_ char: Character = " ", width: UInt8 = 1, style: Style = .plain) {
        self.char = char; self.width = width; self.style = style
    }

    public static let blank = Cell()
    public var isContinuation: Bool { width == 0 }
}

/// The frame every view draws into: a plain grid, so whole screens can be compared as text in tests
/// and the curses backend can draw only the cells that changed since the last frame.
public struct ScreenBuffer: Equatable, Sendable {
    public let cols: Int
    public let rows: Int
    public private(set) var cells: [Cell]
    /// Where the terminal cursor should sit (text prompts); nil hides it.
    public var cursor: (x: Int, y: Int)? {
        get { cursorX.map { ($0, cursorY) } }
        set { cursorX = newValue?.x; cursorY = newValue?.y ?? 0 }
    }
    private var cursorX: Int?
    private var cursorY = 0

    public init(cols: Int, rows: Int) {
        self.cols = max(0, cols); self.rows = max(0, rows)
        cells = Array(repeating: .blank, count: self.cols * self.rows)
    }

    public static func == (a: ScreenBuffer, b: ScreenBuffer) -> Bool {
        a.cols == b.cols && a.rows == b.rows && a.cells == b.cells && a.cursorX == b.cursorX && a.cursorY == b.cursorY
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * cols + x] }
    }

    /// Sets one cell, repairing any wide character it cuts in half so the grid stays drawable.
    public mutating func set(_ x: Int, _ y: Int, _ cell: Cell) {
        guard x >= 0, y >= 0, x < cols, y < rows else { return }
        let i = y * cols + x
        if cells[i].isContinuation, x > 0 { cells[i - 1] = Cell(" ", style: cells[i - 1].style) }
        if cells[i].width == 2, x + 1 < cols { cells[i + 1] = Cell(" ", style: cells[i + 1].style) }
        if cell.width == 2 {
            guard x + 1 < cols else { cells[i] = Cell(" ", style: cell.style); return }
            if cells[i + 1].width == 2, x + 2 < cols { cells[i + 2] = Cell(" ", style: cells[i + 2].style) }
            cells[i] = cell
            cells[i + 1] = Cell(" ", width: 0, style: cell.style)
        } else {
            cells[i] = cell
        }
    }

    /// Fills a rectangle (clipped to the screen).
    public mutating func fill(x: Int, y: Int, width: Int, height: Int, char: Character = " ", style: Style = .plain) {
        let x0 = max(0, x), y0 = max(0, y), x1 = min(cols, x + width), y1 = min(rows, y + height)
        guard x0 < x1, y0 < y1 else { return }
        for yy in y0..<y1 { for xx in x0..<x1 { set(xx, yy, Cell(char, style: style)) } }
    }

    /// Writes text from (x, y), clipped to `maxWidth` columns and the screen edge; returns the
    /// number of columns used. Control characters (possible in file names) show as '?'.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style = .plain, maxWidth: Int? = nil) -> Int {
        guard y >= 0, y < rows else { return 0 }
        let limit = min(cols, x + (maxWidth ?? cols))
        var cx = x
        for ch in text {
            let (c, w) = TextWidth.displayable(ch)
            if w == 0 { continue }
            if cx + w > limit { break }
            if cx >= 0 { set(cx, y, Cell(c, width: UInt8(w), style: style)) }
            cx += w
        }
        return max(0, cx - x)
    }

    /// Applies a style to existing cells, keeping their characters (selection highlights).
    public mutating func restyle(x: Int, y: Int, width: Int, _ change: (inout Style) -> Void) {
        guard y >= 0, y < rows else { return }
        for xx in max(0, x)..<min(cols, x + width) {
            var c = cells[y * cols + xx]
            change(&c.style)
            cells[y * cols + xx] = c
        }
    }

    /// The screen as text, one line per row with trailing spaces removed: what snapshots compare.
    public func text() -> String {
        var lines: [String] = []
        lines.reserveCapacity(rows)
        for y in 0..<rows {
            var line = ""
            for x in 0..<cols {
                let c = cells[y * cols + x]
                if !c.isContinuation { line.append(c.char) }
            }
            while line.last == " " { line.removeLast() }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
