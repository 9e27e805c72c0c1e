import Foundation
import ArgumentParser
import Catalog

/// `corral undo`: put back the last batch of files moved to the Trash or a folder.
struct UndoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undo",
        abstract: "Restore the last batch of files moved to the Trash or a folder (also after a crash).")
    @OptionGroup var common: CommonOptions

    func run() throws {
        let lib = try CatalogSession(common: common).library
        guard let r = try lib.undoLastBatch() else {
            Diagnostics.warn("nothing to undo")
            return
        }
        for rec in r.records.reversed() where rec.source != rec.destination {
            print("restored \(rec.source)")
        }
        for f in r.failures { Diagnostics.fileError(f.path, f.reason) }
        if !r.failures.isEmpty { throw Diagnostics.partialFailure }
    }
}
