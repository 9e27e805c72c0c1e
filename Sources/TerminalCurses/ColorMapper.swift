import UI

/// What the terminal can show, best first.
public enum ColorMode: String, Sendable, Equatable {
    /// 24-bit: colour numbers are 0xRRGGBB (terminfo `colors` >= 2^24, e.g. xterm-direct).
    case direct
    /// The xterm 256-colour palette.
    case palette256
    /// The 8 ANSI colours.
    case palette8
    case mono

    public var hasColor: Bool { self != .mono }
}

/// Turns view colours into curses colour numbers for a mode (-1 is the terminal default).
struct ColorMapper {
    let mode: ColorMode
    private var cache: [UInt32: Int32] = [:]

    init(mode: ColorMode) { self.mode = mode }

    mutating func number(_ c: Color) -> Int32 {
        switch (c, mode) {
        case (_, .mono), (.none, _): return -1
        case (.indexed(let i), .palette256): return Int32(i)
        case (.indexed(let i), _):
            let (r, g, b) = Palette.rgb(of: i)
            return number(.rgb(r, g, b))
        case (.rgb(let r, let g, let b), .direct):
            // xterm-direct sends numbers below 8 as the ANSI colours: nudge near-black blue up.
            let v = Int32(r) << 16 | Int32(g) << 8 | Int32(b)
            return v < 8 ? 8 : v
        case (.rgb(let r, let g, let b), _):
            let key = UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b)
            if let n = cache[key] { return n }
            let n = mode == .palette256 ? Palette.nearest256(r, g, b) : Palette.nearest8(r, g, b)
            cache[key] = n
            return n
        }
    }
}

/// The xterm palette and nearest-colour search.
enum Palette {
    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]
    static let ansi: [(Int, Int, Int)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    static func rgb(of index: UInt8) -> (UInt8, UInt8, UInt8) {
        let i = Int(index)
        if i < 16 { let c = ansi[i]; return (UInt8(c.0), UInt8(c.1), UInt8(c.2)) }
        if i >= 232 { let v = UInt8(8 + 10 * (i - 232)); return (v, v, v) }
        let j = i - 16
        return (UInt8(cubeLevels[j / 36]), UInt8(cubeLevels[j / 6 % 6]), UInt8(cubeLevels[j % 6]))
    }

    static func distance(_ a: (Int, Int, Int), _ b: (Int, Int, Int)) -> Int {
        // Weighted towards green, where the eye is most sensitive.
        let dr = a.0 - b.0, dg = a.1 - b.1, db = a.2 - b.2
        return 2 * dr * dr + 4 * dg * dg + 3 * db * db
    }

    static func nearestLevel(_ v: Int) -> Int {
        var best = 0
        for i in 1..<cubeLevels.count where abs(cubeLevels[i] - v) < abs(cubeLevels[best] - v) { best = i }
        return best
    }

    /// The closest of the 6x6x6 cube and the 24 greys (entries 16-255; 0-15 vary by terminal).
    static func nearest256(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int32 {
        let c = (Int(r), Int(g), Int(b))
        let ri = nearestLevel(c.0), gi = nearestLevel(c.1), bi = nearestLevel(c.2)
        let cube = (cubeLevels[ri], cubeLevels[gi], cubeLevels[bi])
        let cubeIndex = 16 + 36 * ri + 6 * gi + bi
        let avg = (c.0 + c.1 + c.2) / 3
        let greyStep = max(0, min(23, (avg - 8 + 5) / 10))
        let gv = 8 + 10 * greyStep
        return distance(c, (gv, gv, gv)) < distance(c, cube) ? Int32(232 + greyStep) : Int32(cubeIndex)
    }

    static func nearest8(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int32 {
        let c = (Int(r), Int(g), Int(b))
        var best = 0
        for i in 1..<8 where distance(c, ansi[i]) < distance(c, ansi[best]) { best = i }
        return Int32(best)
    }
}
