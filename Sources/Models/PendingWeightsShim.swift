import Foundation

// TEMPORARY: the `weights` branch owns WeightTensor, SafeTensors and ModelStore. Until it is merged,
// this file carries the CONTRACT's signatures with a minimal safetensors reader so the networks can
// be built and tested. Delete this file when merging `weights`.

public struct WeightTensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]
    public init(shape: [Int], data: [Float]) { self.shape = shape; self.data = data }
}

public struct PendingWeightsError: Error, CustomStringConvertible {
    public var description: String
}

public enum SafeTensors {
    public static func read(path: String) throws -> [String: WeightTensor] {
        guard let data = FileManager.default.contents(atPath: path), data.count >= 8 else {
            throw PendingWeightsError(description: "\(path): cannot read")
        }
        let bytes = [UInt8](data)
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        guard 8 + n <= bytes.count,
              let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any] else {
            throw PendingWeightsError(description: "\(path): bad safetensors header")
        }
        var out: [String: WeightTensor] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let d = value as? [String: Any], let shape = d["shape"] as? [Int],
                  let offs = d["data_offsets"] as? [Int], let dtype = d["dtype"] as? String else { continue }
            let start = 8 + n + offs[0], end = 8 + n + offs[1]
            switch dtype {
            case "F32":
                var f = [Float](repeating: 0, count: (end - start) / 4)
                f.withUnsafeMutableBytes { dst in
                    bytes.withUnsafeBytes { src in
                        dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[start..<end]))
                    }
                }
                out[name] = WeightTensor(shape: shape, data: f)
            case "I64":
                out[name] = WeightTensor(shape: shape, data: [Float](repeating: 0, count: (end - start) / 8))
            default:
                throw PendingWeightsError(description: "\(path): dtype \(dtype)")
            }
        }
        return out
    }
}

public struct ModelStore {
    public var directory: URL
    public init(directory: URL? = nil) {
        if let directory { self.directory = directory; return }
        if let env = ProcessInfo.processInfo.environment["CORRAL_MODELS"] {
            self.directory = URL(fileURLWithPath: env); return
        }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("assets/models")
            if FileManager.default.fileExists(atPath: candidate.path) { self.directory = candidate; return }
            dir.deleteLastPathComponent()
        }
        self.directory = URL(fileURLWithPath: "assets/models")
    }
    public func path(for name: String) throws -> URL {
        let url = directory.appendingPathComponent(name + ".safetensors")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw PendingWeightsError(description: "model \(name) is not installed (run `make weights`)")
        }
        return url
    }
}

// TEMPORARY until `imaging` is merged (Imaging owns Preprocessing). Delete with the rest of this file.
public enum Preprocessing: Sendable, Equatable {
    case efficientNet(size: Int)
    case torchvision(resize: Int, crop: Int)
    public var inputSize: Int {
        switch self { case .efficientNet(let s): return s; case .torchvision(_, let c): return c }
    }
}
