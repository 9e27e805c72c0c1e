/// The 1000 ImageNet-1k class names in the standard index order (index 281 is "tabby, tabby cat").
public enum ImageNetLabels {
    public static let names: [String] = ImageNetClassNames.text
        .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)

    /// The first synonym only ("tabby" for "tabby, tabby cat"), for compact displays.
    public static func shortName(_ index: Int) -> String {
        guard names.indices.contains(index) else { return "class \(index)" }
        return String(names[index].split(separator: ",").first ?? Substring(names[index]))
    }
}
