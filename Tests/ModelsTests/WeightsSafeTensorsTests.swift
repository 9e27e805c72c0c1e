import Foundation
import XCTest
import TestSupport
@testable import Models

final class WeightsSafeTensorsTests: XCTestCase {
    func testSHA256KnownVectors() {
        func hex(_ s: String) -> String { Array(s.utf8).withUnsafeBytes { SHA256.hex($0) } }
        XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(hex(String(repeating: "a", count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testRoundTripKeepsNamesShapesValuesAndMetadata() throws {
        let dir = try TestPaths.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededRNG(seed: 7)
        var tensors: [String: WeightTensor] = [:]
        for (i, shape) in [[3, 5, 7], [13], [1, 1, 1, 17], [], [0, 4], [9, 7]].enumerated() {
            let n = shape.reduce(1, *)
            tensors["layer\(i).weight \"quoted\"\\"] = WeightTensor(shape: shape, data: (0..<n).map { _ in rng.nextSigned() * 100 })
        }
        tensors["special"] = WeightTensor(shape: [4], data: [.infinity, -.infinity, -0.0, .leastNonzeroMagnitude])
        let path = dir.appendingPathComponent("m.safetensors").path
        let meta = ["architecture": "resnet18", "source": "x \"y\".pth", "source_sha256": "abc"]
        try SafeTensors.write(tensors, to: path, metadata: meta)
        let back = try SafeTensors.read(path: path)
        XCTAssertEqual(back, tensors)
        XCTAssertEqual(back["special"]?.data[2].sign, .minus)
        XCTAssertEqual(try SafeTensors.readMetadata(path: path), meta)
        // Data starts 8-byte aligned; no temporary file is left behind.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual((8 + headerLength) % 8, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["m.safetensors"])
        // Rewriting replaces the file.
        try SafeTensors.write(["only": WeightTensor(shape: [1], data: [5])], to: path, metadata: [:])
        XCTAssertEqual(try SafeTensors.read(path: path), ["only": WeightTensor(shape: [1], data: [5])])
    }

    /// A file as other writers make it: F16, BF16, F64 and an I64 tensor that is skipped.
    func testReadsHalfBFloatDoubleAndSkipsIntegers() throws {
        let dir = try TestPaths.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var payload: [UInt8] = []
        func append<T>(_ values: [T]) { values.withUnsafeBytes { payload += $0 } }
        append([UInt16(0x3E00), 0xC000, 0x7BFF])            // F16: 1.5, -2, 65504
        append([UInt16(0x3FC0), 0xC040])                     // BF16: 1.5, -3
        append([Double(0.1), -4])                            // F64
        append([Int64(7)])                                   // I64
        let header = """
        {"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[6,10]},\
        "d":{"dtype":"F64","shape":[2,1],"data_offsets":[10,26]},"n":{"dtype":"I64","shape":[],"data_offsets":[26,34]}}
        """
        let path = dir.appendingPathComponent("x.safetensors").path
        try Self.file(header: header, payload: payload).write(to: URL(fileURLWithPath: path))
        let t = try SafeTensors.read(path: path)
        XCTAssertEqual(t["h"], WeightTensor(shape: [3], data: [1.5, -2, 65504]))
        XCTAssertEqual(t["b"], WeightTensor(shape: [2], data: [1.5, -3]))
        XCTAssertEqual(t["d"], WeightTensor(shape: [2, 1], data: [Float(0.1), -4]))
        XCTAssertNil(t["n"])
    }

    func testBadFilesGiveTypedErrors() throws {
        let dir = try TestPaths.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bad.safetensors").path
        let good = Self.file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, payload: [UInt8](repeating: 0, count: 8))
        let cases: [(String, Data, WeightsError.Kind)] = [
            ("offsets past the end", Self.file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, payload: [0, 0, 0]), .truncated),
            ("size mismatch", Self.file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, payload: [UInt8](repeating: 0, count: 8)), .corrupt),
            ("unknown dtype", Self.file(header: #"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, payload: [UInt8](repeating: 0, count: 8)), .unsupported),
            ("not json", Self.file(header: "{nope", payload: []), .corrupt),
            ("huge header", Data([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0x7B]), .corrupt),
            ("negative shape", Self.file(header: #"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, payload: [UInt8](repeating: 0, count: 8)), .corrupt),
        ]
        for (what, data, kind) in cases {
            try data.write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try SafeTensors.read(path: path), what) { error in
                XCTAssertEqual((error as? WeightsError)?.kind, kind, "\(what): \(error)")
                XCTAssertTrue("\(error)".hasPrefix(path + ": "), "\(error)")
            }
        }
        for length in 0..<good.count {
            try good.prefix(length).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try SafeTensors.read(path: path), "cut at \(length)") { XCTAssertTrue($0 is WeightsError) }
        }
    }

    static func file(header: String, payload: [UInt8]) -> Data {
        var d = Data()
        var n = UInt64(header.utf8.count).littleEndian
        d.append(Data(bytes: &n, count: 8))
        d.append(Data(header.utf8))
        d.append(Data(payload))
        return d
    }
}
