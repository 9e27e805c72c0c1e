import XCTest
@testable import Models
import TestSupport

/// ResNet / ResNeXt against tools/reference.py (numpy, BN unfolded, float64) with seeded random
/// weights on a 64x64 input: one network per block kind (basic, bottleneck, grouped bottleneck).
final class ResNetGoldenTests: XCTestCase {
    func testMatchesReference() throws {
        let fixture = try Fixtures.json("resnet-golden.json")
        let seed = UInt64(fixture["seed"] as! Int)
        let size = fixture["input_size"] as! Int
        let input = SeededWeights.uniform("input", seed: seed, count: size * size * 3)
        let models = fixture["models"] as! [[String: Any]]
        XCTAssertEqual(Set(models.map { $0["name"] as! String }), ["resnet18", "resnet50", "resnext50_32x4d"])
        for m in models {
            let name = m["name"] as! String
            let definition = try XCTUnwrap(ModelCatalog.definition(named: name))
            XCTAssertEqual(definition.parameterCount, m["parameters"] as? Int, name)
            let embedder = try Embedder(name: name, definition: definition,
                                        weights: SeededWeights.weights(for: definition, seed: seed),
                                        threads: 2, inputSize: size)
            var logits = [Float](repeating: 0, count: 1000)
            let out = logits.withUnsafeMutableBufferPointer { embedder.run(batch: input, count: 1, logits: $0.baseAddress!) }
            let expectedEmbedding = floats(m["embedding"]), expectedLogits = floats(m["logits"])
            XCTAssertEqual(out[0].embedding.count, name == "resnet18" ? 512 : 2048)
            XCTAssertGreaterThanOrEqual(cosineSimilarity(out[0].embedding, expectedEmbedding), 0.9999, name)
            XCTAssertGreaterThanOrEqual(cosineSimilarity(logits, expectedLogits), 0.9999, name)
            // Tight elementwise too: the nets are exact up to float32 rounding.
            let scale = expectedLogits.map(abs).max()!
            XCTAssertLessThan(maxRelativeError(logits.map { $0 / scale }, expectedLogits.map { $0 / scale }), 1e-3, name)
            XCTAssertEqual(logits.indices.max { logits[$0] < logits[$1] },
                           expectedLogits.indices.max { expectedLogits[$0] < expectedLogits[$1] }, name)
        }
    }

    /// The five ResNets and three ResNeXts hold exactly torchvision's parameter counts (published
    /// with the torchvision weights, e.g. resnet50 25,557,032), so every key and shape table is right
    /// even for the variants too large to run in a test.
    func testParameterCountsMatchTorchvision() throws {
        let expected: [String: Int] = [
            "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
            "resnet101": 44_549_160, "resnet152": 60_192_808, "resnext50_32x4d": 25_028_904,
            "resnext101_32x8d": 88_791_336, "resnext101_64x4d": 83_455_272,
        ]
        XCTAssertEqual(Set(ResNet.names), Set(expected.keys))
        let fromReference = try Fixtures.json("resnet-golden.json")["parameter_counts"] as! [String: Int]
        for (name, count) in expected {
            let d = try XCTUnwrap(ResNet.definition(name))
            XCTAssertEqual(d.parameterCount, count, name)
            XCTAssertEqual(fromReference[name], count, name)
            XCTAssertEqual(d.embeddingSize, name == "resnet18" || name == "resnet34" ? 512 : 2048)
        }
    }
}
