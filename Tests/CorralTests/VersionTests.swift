import XCTest
import Foundation
import TestSupport

/// Runs the real binary: the build the test run made sits next to the test bundle.
final class VersionTests: XCTestCase {
    func testVersionAndHelpListOnlyBuiltCommands() throws {
        let bin = CorralBinary.url
        let out = try CorralBinary.run(["--version"])
        XCTAssertEqual(out.status, 0)
        XCTAssertTrue(out.stdout.hasPrefix("0."), "version: \(out.stdout)")
        let help = try CorralBinary.run(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("USAGE"), "\(bin.path): \(help.stdout)")
    }
}
