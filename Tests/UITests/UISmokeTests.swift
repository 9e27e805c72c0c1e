import XCTest
@testable import UI

final class UISmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(UIModule.self) }
}
