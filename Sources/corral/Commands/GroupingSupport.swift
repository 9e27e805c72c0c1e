import Foundation
import Catalog
import Grouping
import Imaging
import ArgumentParser

/// Shared by cluster/dups/similar: JSON string escaping and turning catalog entries into what the
/// Grouping module consumes.
enum GroupingIO {
    static func json(_ s: String) -> String { JSONText.string(s) }

    static func csv(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func number(_ v: Float) -> String { String(format: "%.4f", v) }

    /// The stored pixel signature, or one computed from the cached thumbnail when the cache holds
    /// none (entries scanned before signatures were stored).
    static func signature(_ e: CatalogEntry) -> PixelSignature {
        let s = PixelSignature(bytes: e.signature)
        if s.isValid || e.thumbnail.width == 0 { return s }
        return PixelSignature(rgb: e.thumbnail.pixels, width: e.thumbnail.width, height: e.thumbnail.height)
    }

    static func candidates(_ entries: [CatalogEntry]) -> [DuplicateCandidate] {
        entries.enumerated().map { i, e in
            DuplicateCandidate(id: i, embedding: e.embedding, signature: signature(e), contentHash: e.contentHash,
                               pixelHash: nil, width: e.metadata.width, height: e.metadata.height, fileSize: e.fileSize,
                               captureDate: e.metadata.dateTimeOriginal, exifFieldCount: e.metadata.exifFieldCount)
        }
    }
}

extension GroupingIO {
    /// Usage errors exit with status 1 (../shared/CLI.md), with the reason and a hint on one line.
    static func usage(_ reason: String) -> ExitCode {
        Diagnostics.warn("\(reason) (see --help)")
        return ExitCode(1)
    }
}
