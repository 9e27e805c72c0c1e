/// One cluster: a grid of its images with file names and flags.
enum ClusterScreen {
    static func draw(_ s: AppState, cluster id: Int, _ buf: inout ScreenBuffer) {
        let t = s.theme
        guard let cluster = s.cluster(id) else { return }
        let members = s.visibleMembers(of: id)
        let keep = members.filter { s.flags[$0] == .keep }.count, reject = members.filter { s.flags[$0] == .reject }.count
        var header = "\(cluster.label) · \(plural(members.count, "image"))"
        if keep + reject > 0 { header += " · ✓\(keep) keep ✗\(reject) reject" }
        let pos = members.isEmpty ? "" : "\(s.clusterCursor + 1)/\(members.count) "
        buf.put(" " + TextWidth.truncate(header, buf.cols - TextWidth.of(pos) - 3), x: 0, y: Chrome.contentTop, style: t[.heading])
        buf.put(pos, x: buf.cols - TextWidth.of(pos), y: Chrome.contentTop, style: t[.secondary])
        guard !members.isEmpty else {
            Chrome.drawCentered([("No image in this cluster matches “\(s.filter)”.", .heading), ("Esc clears the filter.", .secondary)], in: s, &buf)
            return
        }
        let dupIDs = Set(s.visibleDuplicates.flatMap { $0.members.map(\.id) })
        let g = GridLayout(size: s.size, captionLines: 1)
        let first = s.clusterTop * g.columns
        for i in first..<min(members.count, first + g.pageSize) {
            let imgID = members[i]
            let img = s.image(imgID)
            let row = (i - first) / g.columns, col = (i - first) % g.columns
            let x = col * g.cardWidth, y = g.top + row * g.cardHeight
            ThumbnailView.draw(img?.thumbnail, into: &buf, x: x + 1, y: y, width: g.thumbWidth, height: g.thumbHeight, theme: t)
            let selected = i == s.clusterCursor
            let flag = s.flags[imgID]
            let mark = flag != nil ? Format.flagMark(flag) : (dupIDs.contains(imgID) ? "≈" : " ")
            let markRole: Theme.Role = flag == .keep ? .keep : flag == .reject ? .reject : .secondary
            buf.put(mark, x: x + 1, y: y + g.thumbHeight, style: selected ? t[.selection] : t[markRole])
            buf.put(TextWidth.pad(img?.fileName ?? "?", g.thumbWidth - 1), x: x + 2, y: y + g.thumbHeight,
                    style: selected ? t[.selection] : (flag == .reject ? t[.secondary] : t[.text]))
            if selected { buf.put("▶", x: x, y: y + g.thumbHeight, style: t[.heading]) }
        }
        ClustersScreen.drawScrollMarks(s, &buf, top: s.clusterTop, rows: (members.count + g.columns - 1) / g.columns, visible: g.rowsVisible)
    }
}
