import XCTest
@testable import Catalog
import TestSupport

final class ExportTests: XCTestCase {
    var root: URL!
    override func setUpWithError() throws { root = try TestPaths.makeTempDir("catalog-export") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    let clusters = [ExportCluster(id: 0, label: "tabby, tiger cat", medoid: "/p/cat1.jpg", images: ["/p/cat1.jpg", "/p/cat, \"2\".jpg"]),
                    ExportCluster(id: 1, label: "espresso", medoid: "/p/cup.jpg", images: ["/p/cup.jpg"])]
    let dups = [ExportDuplicateGroup(keep: "/p/cat1.jpg", reason: "largest resolution",
                                     images: [ExportDuplicateMember(path: "/p/cat1.jpg", verdict: "identical", similarity: 1),
                                              ExportDuplicateMember(path: "/p/cat, \"2\".jpg", verdict: "near-duplicate", similarity: 0.9712)])]

    func out(_ name: String) -> String { root.appendingPathComponent(name).path }

    func testCSV() throws {
        try Exporter.write(clusters: clusters, duplicates: dups, format: .csv, to: out("g.csv"))
        let text = try String(contentsOfFile: out("g.csv"), encoding: .utf8)
        XCTAssertEqual(text, """
            kind,group,label,path,verdict,similarity,keep\r
            cluster,0,"tabby, tiger cat",/p/cat1.jpg,,,\r
            cluster,0,"tabby, tiger cat","/p/cat, ""2"".jpg",,,\r
            cluster,1,espresso,/p/cup.jpg,,,\r
            duplicates,0,largest resolution,/p/cat1.jpg,identical,1.0000,yes\r
            duplicates,0,largest resolution,"/p/cat, ""2"".jpg",near-duplicate,0.9712,no\r

            """)
    }

    func testJSONRoundTrips() throws {
        try Exporter.write(clusters: clusters, duplicates: dups, format: .json, to: out("g.json"))
        let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out("g.json")))) as! [String: Any]
        let cs = obj["clusters"] as! [[String: Any]]
        XCTAssertEqual(cs.count, 2)
        XCTAssertEqual(cs[0]["label"] as? String, "tabby, tiger cat")
        XCTAssertEqual(cs[0]["images"] as? [String], ["/p/cat1.jpg", "/p/cat, \"2\".jpg"])
        let ds = obj["duplicates"] as! [[String: Any]]
        XCTAssertEqual(ds[0]["keep"] as? String, "/p/cat1.jpg")
        let ims = ds[0]["images"] as! [[String: Any]]
        XCTAssertEqual(ims[1]["verdict"] as? String, "near-duplicate")
        XCTAssertEqual(ims[1]["similarity"] as? Double ?? 0, 0.9712, accuracy: 1e-9)
    }

    func testTextIsOnePathALineWithBlankLinesBetweenGroups() throws {
        try Exporter.write(clusters: clusters, duplicates: dups, format: .txt, to: out("g.txt"))
        XCTAssertEqual(try String(contentsOfFile: out("g.txt"), encoding: .utf8),
                       "/p/cat1.jpg\n/p/cat, \"2\".jpg\n\n/p/cup.jpg\n\n/p/cat1.jpg\n/p/cat, \"2\".jpg\n")
    }

    func testLinksFolderAndNoOverwrite() throws {
        try Exporter.write(clusters: clusters, duplicates: dups, format: .links, to: out("links"))
        let fm = FileManager.default
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: out("links")).sorted(), ["clusters", "duplicates"])
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: out("links/clusters")).sorted(), ["0-tabby, tiger cat", "1-espresso"])
        XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: out("links/clusters/1-espresso/cup.jpg")), "/p/cup.jpg")
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: out("links/duplicates/0")).sorted(), ["cat, \"2\".jpg", "cat1.jpg"])
        XCTAssertThrowsError(try Exporter.write(clusters: clusters, duplicates: [], format: .links, to: out("links")))
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: root.path).sorted(), ["links"], "no temporary left behind")
    }

    func testReplacingAFileIsAtomicAndLeavesNoTemporary() throws {
        try Exporter.write(clusters: clusters, duplicates: dups, format: .txt, to: out("g.txt"))
        try Exporter.write(clusters: [clusters[1]], duplicates: [], format: .txt, to: out("g.txt"))
        XCTAssertEqual(try String(contentsOfFile: out("g.txt"), encoding: .utf8), "/p/cup.jpg\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path), ["g.txt"])
        XCTAssertThrowsError(try Exporter.write(clusters: clusters, duplicates: dups, format: .csv, to: out("missing/dir/g.csv")))
    }
}
