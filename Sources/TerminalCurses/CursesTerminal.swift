import CNcurses
import Foundation
import UI
#if canImport(Glibc)
import Glibc
#endif

public struct TerminalError: Error, CustomStringConvertible {
    public let description: String
}

// Signal handlers may only touch plain globals: they record the signal, the loop acts on it.
nonisolated(unsafe) private var receivedSignal: Int32 = 0
nonisolated(unsafe) private var restoreFD: (out: Int32, err: Int32) = (-1, -1)
nonisolated(unsafe) private var cursesActive = false

/// Last-resort cleanup when the process is dying from a fault: give the user their terminal back.
private func emergencyRestore() {
    if cursesActive { endwin(); cursesActive = false }
    if restoreFD.out >= 0 { dup2(restoreFD.out, 1) }
    if restoreFD.err >= 0 { dup2(restoreFD.err, 2) }
}

/// The ncurses backend: the only code in Corral that touches curses. It owns the screen between
/// `init` and `stop()`; meanwhile stdout and stderr point at a log file so that no stray library
/// output can reach the screen, and curses writes to its own duplicate of the terminal.
public final class CursesTerminal: TerminalDevice {
    public let colorMode: ColorMode
    private var screen: OpaquePointer?
    private var ttyOut: UnsafeMutablePointer<FILE>?
    private var savedOut: Int32 = -1, savedErr: Int32 = -1
    private var mapper: ColorMapper
    private var pairs: [Int64: Int32] = [:]
    private var nextPair: Int32 = 1
    private var maxPairs: Int32
    private var lastFrame: ScreenBuffer?
    private var stopped = false

    /// - Parameters:
    ///   - logPath: where stderr (and stray stdout) goes while the interface runs; /dev/null if nil
    ///     or not writable.
    ///   - environment: TERM, COLORTERM and CORRAL_COLOR (truecolor|256|8|mono) pick the colour mode.
    public init(logPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard isatty(0) == 1, isatty(1) == 1 else {
            throw TerminalError(description: "the interface needs a terminal (stdin and stdout are not both terminals)")
        }
        setlocale(LC_ALL, "")
        fflush(stdout)

        // curses gets its own handle on the terminal; fd 1 and 2 go to the log.
        let ttyFD = dup(1)
        guard ttyFD >= 0, let tty = fdopen(ttyFD, "w") else {
            throw TerminalError(description: "cannot open the terminal for writing")
        }
        ttyOut = tty
        let logFD = logPath.map { open($0, O_WRONLY | O_CREAT | O_APPEND, 0o644) } ?? -1
        let sink = logFD >= 0 ? logFD : open("/dev/null", O_WRONLY)
        savedOut = dup(1); savedErr = dup(2)
        restoreFD = (savedOut, savedErr)
        if sink >= 0 { dup2(sink, 1); dup2(sink, 2); close(sink) }

        // Prefer a 24-bit terminfo entry when the terminal says it does 24-bit colour.
        let term = environment["TERM"] ?? "xterm"
        let override = environment["CORRAL_COLOR"]?.lowercased()
        let colorterm = environment["COLORTERM"]?.lowercased() ?? ""
        var candidates: [String] = []
        let wantsDirect: Bool
        switch override {
        case "truecolor"?, "24bit"?: wantsDirect = true
        case nil: wantsDirect = colorterm == "truecolor" || colorterm == "24bit"
        default: wantsDirect = false
        }
        if wantsDirect, !term.hasSuffix("-direct") {
            let base = term.hasSuffix("-256color") ? String(term.dropLast("-256color".count)) : term
            candidates.append(base + "-direct")
        }
        candidates.append(term)
        var opened: OpaquePointer?
        for name in candidates {
            opened = name.withCString { newterm($0, tty, stdin) }
            if opened != nil { break }
        }
        guard let opened else {
            Self.restoreDescriptors(savedOut, savedErr)
            fclose(tty)
            throw TerminalError(description: "unknown terminal type '\(term)' (check TERM)")
        }
        screen = opened
        set_term(opened)
        cursesActive = true

        cbreak(); noecho(); nonl()
        keypad(corral_stdscr(), true)
        intrflush(corral_stdscr(), false)
        set_escdelay(25)
        curs_set(0)

        var mode = ColorMode.mono
        if has_colors() {
            start_color()
            use_default_colors()
            let colors = corral_colors()
            if colors >= 0x1000000 { mode = .direct }
            else if colors >= 256 { mode = .palette256 }
            else if colors >= 8 { mode = .palette8 }
        }
        switch override {
        case "256"?: if mode == .direct { mode = .palette256 }
        case "8"?, "16"?: if mode != .mono { mode = .palette8 }
        case "mono"?, "none"?: mode = .mono
        default: break
        }
        colorMode = mode
        mapper = ColorMapper(mode: mode)
        maxPairs = has_colors() ? max(1, corral_color_pairs()) : 1

        receivedSignal = 0
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
            signal(sig) { s in receivedSignal = s }
        }
        for sig in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE] {
            signal(sig) { s in
                emergencyRestore()
                signal(s, SIG_DFL)
                raise(s)
            }
        }
    }

    deinit { stop() }

    /// Gives the terminal back: ends curses and restores stdout and stderr. Safe to call twice.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        if cursesActive { endwin(); cursesActive = false }
        if let screen { delscreen(screen) }
        screen = nil
        if let ttyOut { fflush(ttyOut); fclose(ttyOut) }
        ttyOut = nil
        fflush(stdout)
        Self.restoreDescriptors(savedOut, savedErr)
        restoreFD = (-1, -1)
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE] { signal(sig, SIG_DFL) }
    }

    private static func restoreDescriptors(_ out: Int32, _ err: Int32) {
        if out >= 0 { dup2(out, 1); close(out) }
        if err >= 0 { dup2(err, 2); close(err) }
    }

    public var size: TerminalSize {
        TerminalSize(cols: Int(corral_max_x(corral_stdscr())), rows: Int(corral_max_y(corral_stdscr())))
    }

    public var pendingSignal: Int32? { receivedSignal == 0 ? nil : receivedSignal }

    // MARK: Input

    public func nextEvent(timeoutMilliseconds: Int) -> TerminalEvent? {
        wtimeout(corral_stdscr(), Int32(timeoutMilliseconds))
        var ch: wint_t = 0
        let r = wget_wch(corral_stdscr(), &ch)
        if r == ERR { return nil }
        if r == KEY_CODE_YES {
            switch Int32(ch) {
            case KEY_RESIZE:
                lastFrame = nil
                return .resize(size)
            case KEY_UP: return .key(.up)
            case KEY_DOWN: return .key(.down)
            case KEY_LEFT: return .key(.left)
            case KEY_RIGHT: return .key(.right)
            case KEY_PPAGE: return .key(.pageUp)
            case KEY_NPAGE: return .key(.pageDown)
            case KEY_HOME, KEY_A1: return .key(.home)
            case KEY_END, KEY_C1: return .key(.end)
            case KEY_ENTER: return .key(.enter)
            case KEY_BACKSPACE: return .key(.backspace)
            case KEY_DC: return .key(.delete)
            case KEY_BTAB: return .key(.backTab)
            default: return nil
            }
        }
        switch ch {
        case 10, 13: return .key(.enter)
        case 27: return .key(.escape)
        case 8, 127: return .key(.backspace)
        case 9: return .key(.tab)
        case 1...26: return .key(.ctrl(Character(Unicode.Scalar(UInt8(ch) + 96))))
        default:
            guard let scalar = Unicode.Scalar(UInt32(ch)) else { return nil }
            return .key(.char(Character(scalar)))
        }
    }

    // MARK: Output

    /// Draws only the cells that differ from the previous frame, then updates the terminal once,
    /// so redraws never flicker.
    public func draw(_ buffer: ScreenBuffer) {
        guard !stopped else { return }
        var full = lastFrame.map { $0.cols != buffer.cols || $0.rows != buffer.rows } ?? true
        if full { werase(corral_stdscr()) }
        if !drawCells(buffer, full: full) {
            // Ran out of colour pairs: start over with a fresh set and repaint everything.
            resetPairs()
            full = true
            werase(corral_stdscr())
            _ = drawCells(buffer, full: true)
        }
        if let c = buffer.cursor {
            curs_set(1)
            wmove(corral_stdscr(), Int32(c.y), Int32(c.x))
        } else {
            curs_set(0)
        }
        wnoutrefresh(corral_stdscr())
        doupdate()
        lastFrame = buffer
    }

    private func drawCells(_ buffer: ScreenBuffer, full: Bool) -> Bool {
        let rows = min(buffer.rows, size.rows), cols = min(buffer.cols, size.cols)
        var wch = [wchar_t](repeating: 0, count: 6)
        for y in 0..<rows {
            for x in 0..<cols {
                let cell = buffer[x, y]
                if cell.isContinuation { continue }
                if !full, let last = lastFrame, last[x, y] == cell { continue }
                guard let pair = pairNumber(cell.style) else { return false }
                var n = 0
                for s in cell.char.unicodeScalars where n < 5 { wch[n] = wchar_t(bitPattern: s.value); n += 1 }
                wch[n] = 0
                _ = corral_put_cell(Int32(y), Int32(x), wch, attrBits(cell.style), pair)
            }
        }
        return true
    }

    private func attrBits(_ s: Style) -> Int32 {
        var bits: Int32 = 0
        if s.bold { bits |= 1 }
        if s.dim { bits |= 2 }
        if s.reverse { bits |= 4 }
        if s.underline { bits |= 8 }
        return bits
    }

    /// The colour pair for a style's colours, allocated on first use; nil when pairs run out.
    private func pairNumber(_ s: Style) -> Int32? {
        guard colorMode.hasColor else { return 0 }
        let fg = mapper.number(s.fg), bg = mapper.number(s.bg)
        if fg == -1, bg == -1 { return 0 }
        let key = Int64(fg) << 32 | Int64(UInt32(bitPattern: bg))
        if let p = pairs[key] { return p }
        guard nextPair < maxPairs else { return nil }
        let p = nextPair
        nextPair += 1
        init_extended_pair(p, fg, bg)
        pairs[key] = p
        return p
    }

    private func resetPairs() {
        reset_color_pairs()
        pairs.removeAll(keepingCapacity: true)
        nextPair = 1
    }
}
