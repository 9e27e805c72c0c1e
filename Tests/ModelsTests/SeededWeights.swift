import Foundation
@testable import Models
import TestSupport

/// The deterministic weight generator shared with tools/reference.py (see its docstring): tensor K
/// is the SplitMix64 stream seeded with seed ^ fnv1a64(K), u = Float(z >> 40) / 2^23 - 1, scaled
/// by a rule per kind of tensor. Both sides compute u and the scaling in float32, so the weights are
/// bit-identical and only the network arithmetic is compared.
enum SeededWeights {
    static func fnv1a64(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }

    static func uniform(_ name: String, seed: UInt64, count: Int) -> [Float] {
        var rng = SeededRNG(seed: seed ^ fnv1a64(name))
        return (0..<count).map { _ in rng.nextSigned() }
    }

    static func tensor(_ name: String, shape: [Int], seed: UInt64) -> WeightTensor {
        let u = uniform(name, seed: seed, count: shape.reduce(1, *))
        let leaf = name.split(separator: ".").last.map(String.init) ?? name
        let data: [Float]
        if name.hasPrefix("fc.") {
            let s = leaf == "weight" ? Float((1.0 / Double(shape[1])).squareRoot()) : Float(0.01)
            data = u.map { $0 * s }
        } else if shape.count == 4 {
            let s = Float((6.0 / Double(shape[1] * shape[2] * shape[3])).squareRoot())
            data = u.map { $0 * s }
        } else {
            switch leaf {
            case "weight": data = u.map { Float(0.5) + Float(0.25) * $0 }
            case "bias", "running_mean": data = u.map { Float(0.1) * $0 }
            case "running_var": data = u.map { Float(1) + Float(0.5) * $0 }
            default: fatalError("no rule for \(name)")
            }
        }
        return WeightTensor(shape: shape, data: data)
    }

    static func weights(for definition: NetworkDefinition, seed: UInt64) -> [String: WeightTensor] {
        var out: [String: WeightTensor] = [:]
        for (name, shape) in definition.expectedTensors { out[name] = tensor(name, shape: shape, seed: seed) }
        return out
    }
}

enum Fixtures {
    static func url(_ name: String) -> URL {
        if let u = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") { return u }
        return TestPaths.repoRoot.appendingPathComponent("Tests/ModelsTests/Fixtures/\(name)")
    }

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: url(name))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }
}

func floats(_ any: Any?) -> [Float] { (any as? [Double] ?? (any as? [NSNumber])?.map(\.doubleValue) ?? []).map { Float($0) } }
