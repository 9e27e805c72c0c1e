/// Colours named by the role they play (as htop and ncdu do), so a view says "this is a rejected
/// file" and the theme decides what that looks like, including in a colour-less terminal.
public struct Theme: Sendable, Equatable {
    public enum Role: CaseIterable, Sendable {
        case text, secondary, title, titleInfo, tabActive, tabInactive, heading, selection, selectionDim
        case status, statusError, hint, hintKey, keep, reject, badgeIdentical, badgeNear, badgeSimilar
        case better, progressDone, progressTodo, prompt, border, empty
    }

    public let name: String
    /// Whether thumbnails are drawn as coloured half-blocks; without colour they become a
    /// brightness ramp of ASCII characters, which still shows the shape of the picture.
    public let colorThumbnails: Bool
    private let styles: [Role: Style]

    public subscript(_ role: Role) -> Style { styles[role] ?? .plain }

    /// The default theme for dark and light terminals alike: roles on the default background use
    /// only foreground colours.
    public static let standard: Theme = {
        let accent = Color.rgb(0x5F, 0xAF, 0xFF)
        let barBg = Color.rgb(0x26, 0x32, 0x48)
        let green = Color.rgb(0x5F, 0xD7, 0x5F), red = Color.rgb(0xFF, 0x5F, 0x5F), yellow = Color.rgb(0xFF, 0xD7, 0x5F)
        let grey = Color.rgb(0x8A, 0x8A, 0x8A)
        var s: [Role: Style] = [:]
        s[.text] = .plain
        s[.secondary] = Style(fg: grey)
        s[.title] = Style(fg: .rgb(0xFF, 0xFF, 0xFF), bg: barBg, bold: true)
        s[.titleInfo] = Style(fg: .rgb(0xC0, 0xC8, 0xD8), bg: barBg)
        s[.tabActive] = Style(fg: .rgb(0x10, 0x18, 0x28), bg: accent, bold: true)
        s[.tabInactive] = Style(fg: .rgb(0xC0, 0xC8, 0xD8), bg: barBg)
        s[.heading] = Style(fg: accent, bold: true)
        s[.selection] = Style(fg: .rgb(0x10, 0x18, 0x28), bg: accent, bold: true)
        s[.selectionDim] = Style(fg: .rgb(0xFF, 0xFF, 0xFF), bg: .rgb(0x3A, 0x3A, 0x3A))
        s[.status] = Style(fg: accent)
        s[.statusError] = Style(fg: red, bold: true)
        s[.hint] = Style(fg: grey)
        s[.hintKey] = Style(fg: .rgb(0xFF, 0xFF, 0xFF), bold: true)
        s[.keep] = Style(fg: green, bold: true)
        s[.reject] = Style(fg: red, bold: true)
        s[.badgeIdentical] = Style(fg: .rgb(0x10, 0x10, 0x10), bg: red, bold: true)
        s[.badgeNear] = Style(fg: .rgb(0x10, 0x10, 0x10), bg: yellow, bold: true)
        s[.badgeSimilar] = Style(fg: .rgb(0x10, 0x10, 0x10), bg: .rgb(0x87, 0xAF, 0xD7), bold: true)
        s[.better] = Style(fg: green, bold: true)
        s[.progressDone] = Style(fg: accent)
        s[.progressTodo] = Style(fg: .rgb(0x44, 0x44, 0x44))
        s[.prompt] = Style(fg: yellow, bold: true)
        s[.border] = Style(fg: .rgb(0x58, 0x58, 0x58))
        s[.empty] = Style(fg: grey)
        return Theme(name: "standard", colorThumbnails: true, styles: s)
    }()

    /// NO_COLOR (https://no-color.org) or a terminal without colours: attributes only.
    public static let mono: Theme = {
        var s: [Role: Style] = [:]
        s[.text] = .plain
        s[.secondary] = Style(dim: true)
        s[.title] = Style(bold: true, reverse: true)
        s[.titleInfo] = Style(reverse: true)
        s[.tabActive] = Style(bold: true, underline: true)
        s[.tabInactive] = Style(reverse: true)
        s[.heading] = Style(bold: true)
        s[.selection] = Style(reverse: true)
        s[.selectionDim] = Style(underline: true)
        s[.status] = .plain
        s[.statusError] = Style(bold: true)
        s[.hint] = Style(dim: true)
        s[.hintKey] = Style(bold: true)
        s[.keep] = Style(bold: true)
        s[.reject] = Style(bold: true)
        s[.badgeIdentical] = Style(reverse: true)
        s[.badgeNear] = Style(reverse: true)
        s[.badgeSimilar] = Style(reverse: true)
        s[.better] = Style(bold: true)
        s[.progressDone] = .plain
        s[.progressTodo] = Style(dim: true)
        s[.prompt] = Style(bold: true)
        s[.border] = Style(dim: true)
        s[.empty] = Style(dim: true)
        return Theme(name: "mono", colorThumbnails: false, styles: s)
    }()

    /// NO_COLOR set to anything non-empty disables colour, as the convention asks.
    public static func forEnvironment(_ env: [String: String], terminalHasColor: Bool) -> Theme {
        if let v = env["NO_COLOR"], !v.isEmpty { return .mono }
        return terminalHasColor ? .standard : .mono
    }

    public static func == (a: Theme, b: Theme) -> Bool { a.name == b.name }
}
