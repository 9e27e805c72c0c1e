import Foundation
import Catalog
#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on stderr: count, bar, rate and ETA. Drawn only when stderr is a
/// terminal and --quiet is off, so logs and pipes never fill with carriage returns.
final class ProgressBar {
    let enabled: Bool
    private let label: String
    private var lastDraw = Date.distantPast
    private var drawn = false
    private let lock = NSLock()

    init(label: String, quiet: Bool) {
        self.label = label
        enabled = !quiet && isatty(STDERR_FILENO) == 1
    }

    /// Terminal width from the kernel, else 80.
    private static func columns() -> Int {
        var ws = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 20 { return Int(ws.ws_col) }
        return 80
    }

    static func duration(_ t: TimeInterval) -> String {
        let s = max(0, Int(t.rounded()))
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    /// The text of the line (also used by tests of the format).
    static func line(label: String, done: Int, total: Int, rate: Double, eta: TimeInterval?, width: Int) -> String {
        let count = "\(done)/\(total)"
        let tail = String(format: " %6.1f img/s  ETA %@", rate, eta.map(duration) ?? "--:--")
        let barWidth = max(10, width - label.count - count.count - tail.count - 5)
        let filled = total > 0 ? min(barWidth, barWidth * done / total) : 0
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: barWidth - filled)
        return "\(label) \(count) \(bar)\(tail)"
    }

    func update(_ p: ScanProgress) {
        draw(done: p.done, total: p.total, rate: p.rate, eta: p.eta, walking: p.phase == .walking, finished: p.phase == .finished)
    }

    func draw(done: Int, total: Int, rate: Double, eta: TimeInterval?, walking: Bool, finished: Bool) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        if !walking && !finished && now.timeIntervalSince(lastDraw) < 0.1 && done < total { return }
        lastDraw = now
        let text = walking ? "\(label): looking for images…"
            : ProgressBar.line(label: label, done: done, total: total, rate: rate, eta: eta, width: ProgressBar.columns())
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text).utf8))
        drawn = true
        if finished { clear() }
    }

    /// Leaves the line so later messages start on a fresh one.
    func finish() { lock.lock(); defer { lock.unlock() }; clear() }

    private func clear() {
        guard enabled, drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
        drawn = false
    }
}
