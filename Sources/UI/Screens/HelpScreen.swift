/// The key bindings, printed from the same table the update function uses, so they cannot disagree.
public enum HelpScreen {
    struct Line { var text: String; var role: Theme.Role; var keys: String = "" }

    static let keyColumn = 12

    static func lines(sections: [String]) -> [Line] {
        var out: [Line] = []
        for section in sections {
            if !out.isEmpty { out.append(Line(text: "", role: .text)) }
            out.append(Line(text: section, role: .heading))
            for b in KeyBindings.table where b.section == section {
                out.append(Line(text: b.help, role: .text, keys: b.keys.map(\.label).joined(separator: " ")))
            }
        }
        return out
    }

    static func columns(width: Int) -> [[Line]] {
        let all = KeyBindings.sections
        if width >= 110 {
            return [lines(sections: Array(all.prefix(1))), lines(sections: Array(all.dropFirst()))]
        }
        return [lines(sections: all)]
    }

    static let footer = [
        "Flags and \"not duplicates\" are saved in the cache as you go, keyed by file content.",
        "Moves are journalled: u here, or `corral undo` later, puts files back.",
    ]

    static func lineCount(width: Int) -> Int {
        (columns(width: width).map(\.count).max() ?? 0) + 2 + footer.count
    }

    static func draw(_ s: AppState, _ buf: inout ScreenBuffer) {
        let t = s.theme
        let top = Chrome.contentTop, height = Chrome.contentHeight(s.size)
        let cols = columns(width: buf.cols)
        let colW = buf.cols / cols.count
        let rows = (cols.map(\.count).max() ?? 0)
        var all: [[Line]] = cols
        // Footer below the longest column.
        for (i, _) in all.enumerated() where all[i].count < rows { all[i] += Array(repeating: Line(text: "", role: .text), count: rows - all[i].count) }
        all[0] += [Line(text: "", role: .text)] + footer.map { Line(text: $0, role: .secondary) }
        for (ci, col) in all.enumerated() {
            let x = ci * colW + 2
            for (i, line) in col.enumerated().dropFirst(s.helpTop).prefix(height) {
                let y = top + i - s.helpTop
                if line.keys.isEmpty {
                    buf.put(TextWidth.truncate(line.text, buf.cols - x - 1), x: x, y: y, style: t[line.role])
                } else {
                    buf.put(TextWidth.pad(line.keys, keyColumn - 1), x: x, y: y, style: t[.hintKey])
                    buf.put(TextWidth.truncate(line.text, colW - keyColumn - 2), x: x + keyColumn, y: y, style: t[line.role])
                }
            }
        }
    }

    /// The bindings as a Markdown table (docs/ui.md is generated from it).
    public static func markdownTable() -> String {
        var out = "| Keys | Where | Action |\n|---|---|---|\n"
        for b in KeyBindings.table {
            let keys = b.keys.map { "`\($0.label == "|" ? "\\|" : $0.label)`" }.joined(separator: " ")
            let screens: String
            if b.screens.count == ScreenKind.allCases.count { screens = "everywhere" } else {
                screens = ScreenKind.allCases.filter { b.screens.contains($0) }.map { "\($0)" }.joined(separator: ", ")
            }
            out += "| \(keys) | \(screens) | \(b.help) |\n"
        }
        return out
    }
}
