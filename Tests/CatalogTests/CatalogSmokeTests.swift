import XCTest
@testable import Catalog

final class CatalogSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(CatalogModule.self) }
}
