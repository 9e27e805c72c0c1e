import Foundation
import XCTest
import TestSupport
@testable import Models

/// The restricted unpickler on hand-assembled byte strings: what it must refuse, and hostile shapes
/// (deep nesting, self-reference) that must neither crash nor leak past `release()`.
final class WeightsPickleTests: XCTestCase {
    /// Loads and hands the value to `inspect` before `release()` empties its containers.
    @discardableResult
    func unpickle(_ bytes: [UInt8], _ inspect: (PickleValue) throws -> Void = { _ in }) throws -> PickleValue {
        try bytes.withUnsafeBytes { raw in
            var u = Unpickler(bytes: raw, position: 0, persistentLoad: nil)
            defer { u.release() }
            let value = try u.load()
            try inspect(value)
            return value
        }
    }

    func assertRefused(_ bytes: [UInt8], _ kind: WeightsError.Kind, _ mention: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try unpickle(bytes), file: file, line: line) { error in
            let e = error as? PickleError
            XCTAssertEqual(e?.kind, kind, "\(error)", file: file, line: line)
            XCTAssertTrue(e?.reason.contains(mention) ?? false, "\(error) should mention \(mention)", file: file, line: line)
        }
    }

    func testScalarsAndContainers() throws {
        // {"a": (1, -2, 300, -70000, 2**40, 1.5, None, True, [u"x"])} at protocol 2.
        let p: [UInt8] = [0x80, 0x02, 0x7D, 0x28, 0x58, 1, 0, 0, 0, 0x61,
                          0x28, 0x4B, 1, 0x4A, 0xFE, 0xFF, 0xFF, 0xFF, 0x4D, 0x2C, 0x01, 0x4A, 0x90, 0xEE, 0xFE, 0xFF,
                          0x8A, 6, 0, 0, 0, 0, 0, 1, 0x47, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0, 0x4E, 0x88,
                          0x5D, 0x8C, 1, 0x78, 0x61, 0x74, 0x75, 0x2E]
        try unpickle(p) { value in
            guard case .dict(let d) = value, d.entries.count == 1 else { return XCTFail("not a one-entry dict") }
            guard case .string("a") = d.entries[0].key, case .tuple(let t) = d.entries[0].value, t.items.count == 9 else {
                return XCTFail("entry is not a: 9-tuple")
            }
            if case .int(let v) = t.items[0] { XCTAssertEqual(v, 1) } else { XCTFail() }
            if case .int(let v) = t.items[1] { XCTAssertEqual(v, -2) } else { XCTFail() }
            if case .int(let v) = t.items[2] { XCTAssertEqual(v, 300) } else { XCTFail() }
            if case .int(let v) = t.items[3] { XCTAssertEqual(v, -70000) } else { XCTFail() }
            if case .int(let v) = t.items[4] { XCTAssertEqual(v, 1 << 40) } else { XCTFail() }
            if case .float(let v) = t.items[5] { XCTAssertEqual(v, 1.5) } else { XCTFail() }
            if case .none = t.items[6] {} else { XCTFail() }
            if case .bool(true) = t.items[7] {} else { XCTFail() }
            if case .list(let l) = t.items[8], l.items.count == 1, case .string("x") = l.items[0] {} else { XCTFail() }
        }
    }

    func testLongIntegersSignExtend() throws {
        if case .int(let v) = try unpickle([0x80, 0x02, 0x8A, 0x01, 0xFF, 0x2E]) { XCTAssertEqual(v, -1) } else { XCTFail() }
        if case .int(let v) = try unpickle([0x80, 0x02, 0x8A, 0x02, 0x00, 0x80, 0x2E]) { XCTAssertEqual(v, -32768) } else { XCTFail() }
        if case .bigInt(let b) = try unpickle([0x80, 0x02, 0x8A, 0x0A] + TorchCheckpoint.legacyMagic + [0x2E]) {
            XCTAssertEqual(b, TorchCheckpoint.legacyMagic)
        } else { XCTFail() }
    }

    func testForeignGlobalsAndObjectOpcodesAreRefused() {
        assertRefused([0x80, 0x02] + Array("cos\nsystem\n.".utf8), .unsafe, "refused pickle global os.system")
        assertRefused([0x80, 0x02] + Array("cposix\nsystem\n.".utf8), .unsafe, "posix.system")
        assertRefused([0x80, 0x02] + Array("ctorch\nload\n.".utf8), .unsafe, "torch.load")
        // STACK_GLOBAL builtins.exec at protocol 4.
        assertRefused([0x80, 0x04, 0x8C, 8] + Array("builtins".utf8) + [0x8C, 4] + Array("exec".utf8) + [0x93, 0x2E], .unsafe, "builtins.exec")
        // A whole pickled model (torch.save(model)) gets a hint on how to save a state dict instead.
        assertRefused([0x80, 0x02] + Array("ctorchvision.models.resnet\nResNet\n.".utf8), .unsafe,
                      "torchvision.models.resnet.ResNet: only tensor rebuild functions, storage types and collections.OrderedDict are allowed (the file pickles a whole model object; re-save just the weights with torch.save(model.state_dict(), path))")
        // NEWOBJ on an allowed class is still an object construction we do not do.
        assertRefused([0x80, 0x02] + Array("ccollections\nOrderedDict\n)".utf8) + [0x81, 0x2E], .unsupported, "opcode 0x81")
        // Text-protocol INST and protocol 0 are refused.
        assertRefused(Array("(ios\nsystem\n.".utf8), .unsupported, "opcode 0x69")
        assertRefused([0x80, 0x01, 0x2E], .unsupported, "protocol 1")
        // BUILD on a list (a __setstate__ call in real pickle).
        assertRefused([0x80, 0x02, 0x5D, 0x7D, 0x62, 0x2E], .unsafe, "BUILD")
        // REDUCE of a storage type: allowed name, but never callable.
        assertRefused([0x80, 0x02] + Array("ctorch\nFloatStorage\n)R.".utf8), .unsafe, "storage type")
    }

    func testMalformedPicklesAreCorruptNotCrashes() {
        assertRefused([0x80, 0x02, 0x2E], .corrupt, "STOP")                  // empty stack
        assertRefused([0x80, 0x02, 0x4B, 1, 0x4B, 2, 0x2E], .corrupt, "STOP") // two values
        assertRefused([0x80, 0x02, 0x68, 9, 0x2E], .corrupt, "memo")          // BINGET of nothing
        assertRefused([0x80, 0x02, 0x4B, 1, 0x73, 0x2E], .corrupt, "underflow")
        assertRefused([0x80, 0x02, 0x4B, 0, 0x4B, 1, 0x4B, 2, 0x73, 0x2E], .corrupt, "SETITEM on a non-dict")
        assertRefused([0x80, 0x02, 0x74, 0x2E], .corrupt, "MARK")
        assertRefused([0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F, 0x61], .truncated, "ends inside")
        assertRefused([0x80, 0x02, 0x4B], .truncated, "ends inside")
        assertRefused([0x80, 0x02, 0x5D], .truncated, "without STOP")
        assertRefused([0x80, 0x02, 0x8C, 2, 0xC3, 0x28, 0x2E], .corrupt, "UTF-8")
        // Items below a MARK are not reachable for APPEND (Python refuses this too).
        assertRefused([0x80, 0x02, 0x5D, 0x28, 0x4B, 1, 0x61, 0x2E], .corrupt, "underflow")
    }

    /// 200 000 nested lists and a list that contains itself: loading and tearing down stay flat.
    func testDeepNestingAndCyclesAreSafe() throws {
        let depth = 200_000
        var deep: [UInt8] = [0x80, 0x02]
        deep += [UInt8](repeating: 0x5D, count: depth)
        deep += [UInt8](repeating: 0x61, count: depth - 1)
        deep.append(0x2E)
        _ = try unpickle(deep)
        // EMPTY_LIST, BINPUT 0, BINGET 0, APPEND: l = []; l.append(l)
        try unpickle([0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E]) { value in
            guard case .list(let l) = value, l.items.count == 1, case .list(let inner) = l.items[0] else { return XCTFail() }
            XCTAssertTrue(inner === l)
        }
    }

    /// Python's default zip writer adds no zip64 records; torch's does. Both must load.
    func testZipWithoutZip64RecordsLoads() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: WeightsCheckpointTests.fixture("tiny-zip.pt"))))
        let eocd = try XCTUnwrap((0...(bytes.count - 4)).reversed().first { bytes[$0] == 0x50 && bytes[$0 + 1] == 0x4B && bytes[$0 + 2] == 5 && bytes[$0 + 3] == 6 })
        XCTAssertEqual(Array(bytes[(eocd - 20)..<(eocd - 16)]), [0x50, 0x4B, 6, 7], "fixture has a zip64 locator")
        bytes.removeSubrange((eocd - 76)..<eocd)
        let dir = try TestPaths.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("plain.pt").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try loadTorchCheckpoint(path: path), try WeightsCheckpointTests.expected())
    }
}
