import XCTest
@testable import Models

final class ModelsSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(ModelsModule.self) }
}
