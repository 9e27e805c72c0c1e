import Foundation

/// The first screen: progress of the first scan (count, rate, ETA) or why it failed.
enum ScanningScreen {
    static func draw(_ s: AppState, _ buf: inout ScreenBuffer) {
        let t = s.theme
        let barWidth = max(10, min(60, buf.cols - 24))
        switch s.scan {
        case .failed(let reason):
            var lines: [(String, Theme.Role)] = [("The scan failed", .statusError), ("", .text)]
            for l in wrap(reason, width: buf.cols - 6).prefix(6) { lines.append((l, .text)) }
            lines += [("", .text), ("r retries · q quits", .secondary)]
            Chrome.drawCentered(lines, in: s, &buf)
        case .running(let p?) where p.total > 0:
            let top = Chrome.contentTop + max(0, (Chrome.contentHeight(s.size) - 8) / 2)
            Chrome.drawCentered([("Scanning " + TextWidth.truncateLeft(s.config.title, buf.cols - 12), .heading)], in: s, &buf, top: top)
            let frac = min(1, Double(p.done) / Double(p.total))
            let filled = Int((frac * Double(barWidth)).rounded(.down))
            let count = " \(p.done) / \(p.total)"
            let total = barWidth + TextWidth.of(count)
            let x0 = max(1, (buf.cols - total) / 2)
            buf.put(String(repeating: "█", count: filled), x: x0, y: top + 2, style: t[.progressDone])
            buf.put(String(repeating: "░", count: barWidth - filled), x: x0 + filled, y: top + 2, style: t[.progressTodo])
            buf.put(count, x: x0 + barWidth, y: top + 2, style: t[.text])
            var detail = "\(p.phase) · " + String(format: "%.1f images/s", p.rate)
            if let eta = p.eta { detail += " · about \(Format.duration(eta)) left" }
            Chrome.drawCentered([(detail, .secondary), ("", .text),
                                 ("Finished images are cached: quitting keeps them, a later run reuses them.", .secondary)],
                                in: s, &buf, top: top + 4)
        case .running(let p?):
            Chrome.drawCentered([("Looking for images in " + TextWidth.truncateLeft(s.config.title, buf.cols - 30) + "…", .heading), ("", .text),
                                 (p.phase, .secondary)], in: s, &buf)
        default:
            Chrome.drawCentered([("Opening " + TextWidth.truncateLeft(s.config.title, buf.cols - 20) + "…", .heading), ("", .text),
                                 ("Loading the cache.", .secondary)], in: s, &buf)
        }
    }
}

/// Word wrap by display width; long words are cut.
func wrap(_ text: String, width: Int) -> [String] {
    guard width > 1 else { return [text] }
    var lines: [String] = [], line = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
        let candidate = line.isEmpty ? word : line + " " + word
        if TextWidth.of(candidate) <= width { line = candidate; continue }
        if !line.isEmpty { lines.append(line) }
        var w = word
        while TextWidth.of(w) > width {
            var head = "", used = 0
            for ch in w { let cw = TextWidth.of(ch); if used + cw > width { break }; head.append(ch); used += cw }
            lines.append(head); w.removeFirst(head.count)
        }
        line = w
    }
    if !line.isEmpty { lines.append(line) }
    return lines
}
