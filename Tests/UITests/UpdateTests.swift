import XCTest
@testable import UI

final class UpdateTests: XCTestCase {
    func testScanFinishedStartsClusteringAndDuplicates() {
        let lib = FakeLibrary()
        let (s, fx) = update(.fixture(), .scanFinished(ScanOutcome(images: lib.images)))
        XCTAssertEqual(fx, [.cluster(k: nil, generation: 1), .findDuplicates(generation: 1)])
        XCTAssertTrue(s.clusteringPending)
        XCTAssertFalse(s.showsScanScreen)
    }

    func testProgressOfTheFirstScanIsShown() {
        var s = AppState.fixture()
        let fx = s.startScan()
        XCTAssertEqual(fx, [.scan])
        s = update(s, .scanProgress(ScanProgressInfo(done: 3, total: 10, rate: 2, eta: 3.5, phase: "embedding new images"))).0
        XCTAssertTrue(render(s).text().contains("3 / 10"))
        XCTAssertTrue(render(s).text().contains("about 0:04 left"))
        // A late event after the scan finished changes nothing.
        s = update(s, .scanFinished(ScanOutcome(images: FakeLibrary().images))).0
        XCTAssertEqual(update(s, .scanProgress(ScanProgressInfo(done: 1, total: 10, rate: 1, eta: nil, phase: "x"))).0.scan, .finished)
    }

    func testGridNavigationClampsAndWraps() {
        var s = AppState.loaded()   // 4 clusters, 5 columns at 80x24
        XCTAssertEqual(GridLayout(size: s.size, captionLines: 2).columns, 5)
        s = s.pressing(.right, .right, .right, .right, .right)
        XCTAssertEqual(s.clustersCursor, 3, "right stops at the last cluster")
        s = s.pressing(.home)
        XCTAssertEqual(s.clustersCursor, 0)
        s = s.pressing(.end)
        XCTAssertEqual(s.clustersCursor, 3)
        s = s.pressing(.char("h"))
        XCTAssertEqual(s.clustersCursor, 2)
        // Open the 4-image cluster (sorted by size: clusters 0 and 1 have 4 images, 2 and 3 have 3).
        s = s.pressing(.home, .enter)
        XCTAssertEqual(s.route, [.clusters, .cluster(0)])
        XCTAssertEqual(s.visibleMembers(of: 0), [0, 4, 8, 12])
        s = s.pressing(.pageDown)
        XCTAssertEqual(s.clusterCursor, 3)
        s = s.pressing(.up)
        XCTAssertEqual(s.clusterCursor, 3, "no row above: up stays")
        s = s.pressing(.escape)
        XCTAssertEqual(s.route, [.clusters])
    }

    func testGridDownToShorterLastRowLandsOnLastItem() {
        var s = AppState.loaded(k: 14)   // 14 one-image clusters in rows of 5: 5, 5, 4
        XCTAssertEqual(GridLayout(size: s.size, captionLines: 2).columns, 5)
        s = s.pressing(.end, .up, .right)
        XCTAssertEqual(s.clustersCursor, 9)
        s = s.pressing(.down)
        XCTAssertEqual(s.clustersCursor, 13)
        s = s.pressing(.down)
        XCTAssertEqual(s.clustersCursor, 13)
    }

    func testScrollKeepsCursorVisible() {
        var s = AppState.loaded(cols: 80, rows: 24, k: 14)   // 14 clusters of one image
        let g = GridLayout(size: s.size, captionLines: 2)
        s = s.pressing(.end)
        XCTAssertEqual(s.clustersCursor, 13)
        let row = 13 / g.columns
        XCTAssertTrue(row >= s.clustersTop && row < s.clustersTop + g.rowsVisible)
        XCTAssertTrue(render(s).text().contains("14/14"))
        s = s.pressing(.home)
        XCTAssertEqual(s.clustersTop, 0)
    }

    func testOpeningImageAsksForSimilarOnceAndEnterJumps() {
        var s = AppState.loaded().pressing(.enter)
        var (next, fx) = update(s, .key(.enter))
        XCTAssertEqual(next.route.last, .image(0))
        XCTAssertEqual(fx, [.similar(id: 0)])
        s = update(next, .similarReady(id: 0, [SimilarImage(id: 4, similarity: 0.9), SimilarImage(id: 8, similarity: 0.8)])).0
        s = s.pressing(.down)
        (next, fx) = update(s, .key(.enter))
        XCTAssertEqual(next.route.last, .image(8))
        XCTAssertEqual(fx, [.similar(id: 8)])
        // Back twice returns to the cluster with its cursor.
        XCTAssertEqual(next.pressing(.escape, .escape).route, [.clusters, .cluster(0)])
    }

    func testLeftRightOnImageWalksTheCluster() {
        var s = AppState.loaded().pressing(.enter, .enter)
        s = update(s, .key(.right)).0
        XCTAssertEqual(s.route.last, .image(4))
        XCTAssertEqual(s.clusterCursor, 1)
        s = s.pressing(.left, .left)
        XCTAssertEqual(s.route.last, .image(0))
        XCTAssertEqual(s.route.count, 3, "walking replaces the image, it does not stack")
    }

    func testFlagsToggleAndUndo() {
        var s = AppState.loaded().pressing(.enter)
        var fx: [Effect]
        (s, fx) = update(s, .key(.char("x")))
        XCTAssertEqual(s.flags[0], .reject)
        XCTAssertEqual(fx, [.setFlag(.reject, ids: [0])])
        (s, fx) = update(s, .key(.char(" ")))
        XCTAssertEqual(s.flags[0], .keep)
        (s, fx) = update(s, .key(.char(" ")))
        XCTAssertNil(s.flags[0], "space again clears")
        XCTAssertEqual(fx, [.setFlag(nil, ids: [0])])
        (s, fx) = update(s, .key(.char("u")))
        XCTAssertEqual(s.flags[0], .keep)
        XCTAssertEqual(fx, [.setFlag(.keep, ids: [0])])
        s = s.pressing(.char("u"), .char("u"))
        XCTAssertNil(s.flags[0])
        (s, fx) = update(s, .key(.char("u")))
        XCTAssertEqual(fx, [])
        XCTAssertTrue(s.status!.text.contains("Nothing to undo"))
    }

    func testKeepSuggestedRejectsTheRestAndUndoRestores() {
        var s = AppState.loaded().pressing(.tab)
        var fx: [Effect]
        (s, fx) = update(s, .key(.char("K")))
        XCTAssertEqual(s.flags, [1: .keep, 5: .reject, 9: .reject])
        XCTAssertEqual(fx, [.setFlag(.keep, ids: [1]), .setFlag(.reject, ids: [5, 9])])
        (s, fx) = update(s, .key(.char("u")))
        XCTAssertEqual(s.flags, [:])
        XCTAssertEqual(fx, [.setFlag(nil, ids: [1, 5, 9])])
    }

    func testTrashAsksFirstAndNeverTakesTheLastCopy() {
        // Reject every member of the identical pair (2, 6) and one of the first group.
        var s = AppState.loaded().pressing(.tab, .down, .char("x"), .left, .char("x"), .up, .right, .char("x"))
        XCTAssertEqual(s.flags, [2: .reject, 6: .reject, 9: .reject])
        s = s.pressing(.char("T"))
        guard case .confirm(.trash(let ids), let message)? = s.prompt else { return XCTFail("no confirmation: \(String(describing: s.prompt))") }
        XCTAssertEqual(ids, [6, 9], "2 is the suggested keeper of a fully rejected group: protected")
        XCTAssertTrue(message.contains("last copy"), message)
        // n cancels.
        XCTAssertNil(s.pressing(.char("n")).prompt)
        var fx: [Effect]
        (s, fx) = update(s, .key(.char("y")))
        XCTAssertEqual(fx, [.trash(ids: [6, 9])])
        (s, fx) = update(s, .fileActionDone(FileActionOutcome(moved: [6, 9], destination: "the Trash")))
        XCTAssertEqual(s.removed, [6, 9])
        XCTAssertEqual(fx, [.findDuplicates(generation: s.duplicateGeneration)])
        XCTAssertFalse(s.visibleClusters.flatMap(\.members).contains(9))
        (s, fx) = update(s, .key(.char("u")))
        XCTAssertEqual(fx, [.undoFileAction])
        s = update(s, .undoDone(UndoOutcome(restored: [6, 9], description: "Restored 2 files."))).0
        XCTAssertEqual(s.removed, [])
    }

    func testMoveAsksForAFolder() {
        var s = AppState.loaded().pressing(.enter, .char("x"), .char("M"))
        XCTAssertEqual(s.prompt, .moveFolder(text: "/home/ann/rejected"))
        s = s.pressing(.ctrl("u"), .char("~"), .char("/"), .char("o"), .char("l"), .char("d"), .enter)
        guard case .confirm(.move([0], folder: "/home/ann/old"), _)? = s.prompt else { return XCTFail("\(String(describing: s.prompt))") }
        let (_, fx) = update(s, .key(.char("y")))
        XCTAssertEqual(fx, [.move(ids: [0], folder: "/home/ann/old")])
    }

    func testNothingRejectedExplains() {
        let s = AppState.loaded().pressing(.char("T"))
        XCTAssertNil(s.prompt)
        XCTAssertTrue(s.status!.text.contains("No rejected files"))
    }

    func testNotDuplicatesRemovesPairAndRecomputes() {
        var s = AppState.loaded().pressing(.tab)
        XCTAssertEqual(s.dupMember, 0)
        var fx: [Effect]
        (s, fx) = update(s, .key(.char("n")))
        XCTAssertEqual(fx.first, .setNotDuplicates([1, 5], true))
        XCTAssertEqual(s.visibleDuplicates[0].members.map(\.id), [1, 9])
        (s, fx) = update(s, .key(.char("u")))
        XCTAssertEqual(fx.first, .setNotDuplicates([1, 5], false))
        // Identical bytes cannot be declared different.
        (s, fx) = update(s.pressing(.down), .key(.char("n")))
        XCTAssertEqual(fx, [])
        XCTAssertTrue(s.status!.text.contains("same bytes"))
    }

    func testFilterNarrowsAndEscRestores() {
        var s = AppState.loaded().pressing(.char("/"), .char("c"), .char("a"), .char("t"))
        XCTAssertEqual(s.filter, "cat")
        XCTAssertEqual(s.visibleClusters.map(\.label), ["tabby, tiger cat"])
        s = s.pressing(.enter)
        XCTAssertNil(s.prompt)
        XCTAssertEqual(s.filter, "cat")
        s = s.pressing(.enter)
        XCTAssertEqual(s.visibleMembers(of: 1), [1, 5, 9, 13])
        s = s.pressing(.escape, .escape)
        XCTAssertEqual(s.filter, "", "Esc at the root clears the filter")
        // Esc inside the prompt restores what was there before.
        s = s.pressing(.char("/"), .char("z"), .escape)
        XCTAssertEqual(s.filter, "")
        // A file-name filter inside a cluster.
        s = AppState.loaded().pressing(.enter, .char("/"), .char("0"), .char("2"), .enter)
        XCTAssertEqual(s.visibleMembers(of: 0).map { s.images[$0].fileName }, ["beach-02.jpg"])
    }

    func testKChangesRecluster() {
        var s = AppState.loaded()
        var fx: [Effect]
        (s, fx) = update(s, .key(.char("+")))
        XCTAssertEqual(s.requestedK, 5)
        XCTAssertEqual(fx, [.cluster(k: 5, generation: s.clusterGeneration)])
        (s, fx) = update(s, .key(.char("-")))
        (s, fx) = update(s, .key(.char("-")))
        XCTAssertEqual(fx, [.cluster(k: 3, generation: s.clusterGeneration)])
        // A stale result is ignored.
        let stale = update(s, .clustersReady(FakeLibrary.clustering(images: Array(0..<14), k: 5), generation: s.clusterGeneration - 1)).0
        XCTAssertEqual(stale.clustering?.k, 4)
        s = update(s, .clustersReady(FakeLibrary.clustering(images: Array(0..<14), k: 3), generation: s.clusterGeneration)).0
        XCTAssertEqual(s.clustering?.k, 3)
        XCTAssertFalse(s.clusteringPending)
        // a: back to automatic.
        (s, fx) = update(s, .key(.char("a")))
        XCTAssertNil(s.requestedK)
        XCTAssertEqual(fx, [.cluster(k: nil, generation: s.clusterGeneration)])
        // a again: fixes k at the current value without recomputing.
        (s, fx) = update(s, .key(.char("a")))
        XCTAssertEqual(s.requestedK, 3)
        XCTAssertEqual(fx, [])
    }

    func testKNeverExceedsImageCount() {
        var s = AppState.loaded(k: 14)
        s.requestedK = 14
        let (next, fx) = update(s, .key(.char("+")))
        XCTAssertEqual(fx, [])
        XCTAssertTrue(next.status!.text.contains("already"))
    }

    func testSortByName() {
        let s = AppState.loaded().pressing(.char("s"))
        XCTAssertEqual(s.visibleClusters.map(\.label), ["seashore, coast", "streetcar", "tabby, tiger cat", "valley"])
    }

    func testExportFlow() {
        var s = AppState.loaded().pressing(.char("e"))
        XCTAssertEqual(s.prompt, .exportFormat)
        s = s.pressing(.char("j"))
        XCTAssertEqual(s.prompt, .exportPath(.json, text: "/home/ann/corral-groups.json"))
        s = s.pressing(.ctrl("w"), .char("o"), .char(".").self, .char("j"))
        let (next, fx) = update(s, .key(.enter))
        guard case .export(.json, let path, let c?, let d)? = fx.first else { return XCTFail("\(fx)") }
        XCTAssertEqual(path, "/home/ann/o.j")
        XCTAssertEqual(c.clusters.count, 4)
        XCTAssertEqual(d.count, 2)
        let done = update(next, .exported(path: path, format: .json)).0
        XCTAssertEqual(done.status?.text, "Exported 4 clusters and 2 duplicate groups as json to /home/ann/o.j")
    }

    func testHelpAndQuit() {
        var s = AppState.loaded(cols: 120, rows: 40).pressing(.char("?"))
        XCTAssertTrue(s.showHelp)
        XCTAssertTrue(render(s).text().contains("Keep the suggested one, reject the rest"))
        s = s.pressing(.escape)
        XCTAssertFalse(s.showHelp)
        XCTAssertTrue(s.pressing(.char("q")).shouldQuit)
        XCTAssertTrue(AppState.fixture().pressing(.char("q")).shouldQuit, "q quits during the first scan too")
    }

    func testEveryBindingIsReachableAndUnambiguous() {
        for screen in ScreenKind.allCases {
            var seen: [Key: Action] = [:]
            for b in KeyBindings.table where b.screens.contains(screen) {
                for k in b.keys {
                    XCTAssertNil(seen[k], "\(k) bound twice on \(screen)")
                    seen[k] = b.action
                }
            }
        }
    }

    func testResizeKeepsCursorOnScreen() {
        var s = AppState.loaded(cols: 120, rows: 40, k: 14).pressing(.end)
        s = update(s, .resize(TerminalSize(cols: 80, rows: 24))).0
        let g = GridLayout(size: s.size, captionLines: 2)
        let row = s.clustersCursor / g.columns
        XCTAssertTrue(row >= s.clustersTop && row < s.clustersTop + g.rowsVisible)
    }

    func testRescanResetsRouteAndRecomputes() {
        var s = AppState.loaded().pressing(.enter, .enter)
        var fx: [Effect]
        (s, fx) = update(s, .key(.char("r")))
        XCTAssertEqual(fx, [.scan])
        (s, fx) = update(s, .scanFinished(ScanOutcome(images: FakeLibrary().images)))
        XCTAssertEqual(s.route, [.clusters])
        XCTAssertEqual(fx.count, 2)
    }
}
