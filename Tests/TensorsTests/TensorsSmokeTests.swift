import XCTest
@testable import Tensors

final class TensorsSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(TensorsModule.self) }
}
