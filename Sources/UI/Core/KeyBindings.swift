/// What a key does, independent of which key it is: the update function handles actions, the
/// binding table maps keys to them, and the help screen is printed from the same table.
public enum Action: Equatable, Sendable {
    case quit, help, back, open
    case up, down, left, right, pageUp, pageDown, home, end
    case switchTab, showClusters, showDuplicates
    case filter, moreClusters, fewerClusters, toggleAutoK, sort
    case keep, reject, undo, keepSuggested, notDuplicates
    case trashRejected, moveRejected, export, rescan
}

public enum ScreenKind: Hashable, Sendable, CaseIterable {
    case clusters, cluster, image, duplicates
}

public struct KeyBinding: Sendable {
    public let keys: [Key]
    public let action: Action
    /// Where the binding works; the help screen groups by `section`.
    public let screens: Set<ScreenKind>
    public let section: String
    public let help: String
    /// Short text for the hint line at the bottom, if the binding earns a place there.
    public let hint: String?
}

public enum KeyBindings {
    static let all: Set<ScreenKind> = Set(ScreenKind.allCases)
    static let browsing: Set<ScreenKind> = [.clusters, .cluster, .duplicates]
    static let flaggable: Set<ScreenKind> = [.cluster, .image, .duplicates]

    public static let table: [KeyBinding] = [
        // Moving around
        KeyBinding(keys: [.up, .char("k")], action: .up, screens: all, section: "Moving around", help: "Up (image: previous similar image)", hint: nil),
        KeyBinding(keys: [.down, .char("j")], action: .down, screens: all, section: "Moving around", help: "Down (image: next similar image)", hint: nil),
        KeyBinding(keys: [.left, .char("h")], action: .left, screens: all, section: "Moving around", help: "Left (image: previous image in the cluster)", hint: nil),
        KeyBinding(keys: [.right, .char("l")], action: .right, screens: all, section: "Moving around", help: "Right (image: next image in the cluster)", hint: nil),
        KeyBinding(keys: [.pageUp, .ctrl("b")], action: .pageUp, screens: all, section: "Moving around", help: "Page up", hint: nil),
        KeyBinding(keys: [.pageDown, .ctrl("f")], action: .pageDown, screens: all, section: "Moving around", help: "Page down", hint: nil),
        KeyBinding(keys: [.home, .char("g")], action: .home, screens: all, section: "Moving around", help: "First item", hint: nil),
        KeyBinding(keys: [.end, .char("G")], action: .end, screens: all, section: "Moving around", help: "Last item", hint: nil),
        KeyBinding(keys: [.enter], action: .open, screens: all, section: "Moving around", help: "Open (image: jump to the similar image)", hint: "open"),
        KeyBinding(keys: [.escape, .backspace], action: .back, screens: all, section: "Moving around", help: "Back (at the top: clear the filter)", hint: "back"),
        KeyBinding(keys: [.tab, .backTab], action: .switchTab, screens: all, section: "Moving around", help: "Switch between Clusters and Duplicates", hint: "dups"),
        KeyBinding(keys: [.char("1")], action: .showClusters, screens: all, section: "Moving around", help: "Show clusters", hint: nil),
        KeyBinding(keys: [.char("2")], action: .showDuplicates, screens: all, section: "Moving around", help: "Show duplicates", hint: nil),
        KeyBinding(keys: [.char("/")], action: .filter, screens: browsing, section: "Moving around", help: "Filter by file name or cluster label", hint: "filter"),
        // Clusters
        KeyBinding(keys: [.char("+"), .char("=")], action: .moreClusters, screens: [.clusters], section: "Clusters", help: "Re-cluster with one more cluster (k + 1)", hint: "k+1"),
        KeyBinding(keys: [.char("-"), .char("_")], action: .fewerClusters, screens: [.clusters], section: "Clusters", help: "Re-cluster with one cluster fewer (k - 1)", hint: "k-1"),
        KeyBinding(keys: [.char("a")], action: .toggleAutoK, screens: [.clusters], section: "Clusters", help: "Toggle automatic choice of k", hint: "auto k"),
        KeyBinding(keys: [.char("s")], action: .sort, screens: [.clusters], section: "Clusters", help: "Sort clusters by size or by name", hint: "sort"),
        // Flags and actions
        KeyBinding(keys: [.char(" ")], action: .keep, screens: flaggable, section: "Flags and actions", help: "Flag keep (again: clear the flag)", hint: "keep"),
        KeyBinding(keys: [.char("x")], action: .reject, screens: flaggable, section: "Flags and actions", help: "Flag reject (again: clear the flag)", hint: "reject"),
        KeyBinding(keys: [.char("K")], action: .keepSuggested, screens: [.duplicates], section: "Flags and actions", help: "Keep the suggested one, reject the rest", hint: "keep suggested"),
        KeyBinding(keys: [.char("n")], action: .notDuplicates, screens: [.duplicates], section: "Flags and actions", help: "These two are not duplicates (remembered)", hint: "not dups"),
        KeyBinding(keys: [.char("T")], action: .trashRejected, screens: all, section: "Flags and actions", help: "Move rejected files to the Trash (asks first)", hint: "trash"),
        KeyBinding(keys: [.char("M")], action: .moveRejected, screens: all, section: "Flags and actions", help: "Move rejected files to a folder (asks first)", hint: nil),
        KeyBinding(keys: [.char("u")], action: .undo, screens: all, section: "Flags and actions", help: "Undo the last flag, decision or move", hint: "undo"),
        KeyBinding(keys: [.char("e")], action: .export, screens: all, section: "Flags and actions", help: "Export groups as csv, json, txt or links", hint: "export"),
        // Everywhere
        KeyBinding(keys: [.char("r")], action: .rescan, screens: all, section: "General", help: "Rescan the folders (reuses the cache)", hint: nil),
        KeyBinding(keys: [.char("?")], action: .help, screens: all, section: "General", help: "Show or hide this help", hint: "help"),
        KeyBinding(keys: [.char("q"), .ctrl("c")], action: .quit, screens: all, section: "General", help: "Quit (flags are already saved)", hint: "quit"),
    ]

    static let sections = ["Moving around", "Clusters", "Flags and actions", "General"]

    /// The action for a key on a screen, if any.
    public static func action(for key: Key, on screen: ScreenKind) -> Action? {
        for b in table where b.screens.contains(screen) && b.keys.contains(key) { return b.action }
        return nil
    }

    /// Bindings shown on the hint line of a screen, in table order, with their first key.
    static func hints(for screen: ScreenKind) -> [(key: String, text: String)] {
        var order: [Action] = []
        switch screen {
        case .clusters: order = [.open, .filter, .moreClusters, .fewerClusters, .toggleAutoK, .sort, .switchTab, .help, .quit]
        case .cluster: order = [.open, .keep, .reject, .undo, .filter, .trashRejected, .back, .help, .quit]
        case .image: order = [.open, .keep, .reject, .undo, .back, .help, .quit]
        case .duplicates: order = [.keepSuggested, .keep, .reject, .notDuplicates, .undo, .trashRejected, .switchTab, .help, .quit]
        }
        return order.compactMap { a in
            guard let b = table.first(where: { $0.action == a }), let hint = b.hint else { return nil }
            return (b.keys[0].label, hint)
        }
    }
}
