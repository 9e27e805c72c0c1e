import XCTest
@testable import Grouping

final class GroupingSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(GroupingModule.self) }
}
