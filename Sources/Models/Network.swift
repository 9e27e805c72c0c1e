import Foundation
import Tensors

/// A `NetworkDefinition` made runnable for one input size: batch norm folded into each conv,
/// weights packed once by `Conv2D`, and every activation placed in one of a few arenas that are
/// allocated once and reused (a value's arena is free again after its last reader has run).
///
/// Not thread-safe: `forward` writes the shared arenas. `Embedder` serialises calls.
final class Network {
    enum Step {
        case conv(Conv2D, input: Int, residual: Int?, output: Int)
        case maxPool(kernel: Int, stride: Int, padding: Int, input: Int, output: Int)
    }

    struct ValueShape: Equatable { var height, width, channels: Int; var count: Int { height * width * channels } }

    let definition: NetworkDefinition
    let inputSize: Int
    let steps: [Step]
    /// Shape of every value (per image); value 0 is the input.
    let shapes: [ValueShape]
    /// Arena holding each value; -1 for the input, which stays in the caller's memory.
    let arenaOf: [Int]
    let arenaCount: Int
    /// Floats per image in each arena (the largest value it ever holds).
    let arenaStride: Int
    let classifierWeight: [Float]   // [classes x embeddingSize], nn.Linear layout
    let classifierBias: [Float]
    var embeddingSize: Int { shapes[definition.features].channels }
    var classes: Int { definition.classes }

    private var arenas: UnsafeMutablePointer<Float>?
    private var arenaBatch = 0

    init(definition: NetworkDefinition, weights: [String: WeightTensor], inputSize: Int? = nil) throws {
        try definition.check(weights)
        self.definition = definition
        let size = inputSize ?? definition.inputSize
        self.inputSize = size

        // Shapes and packed kernels, in order.
        var shapes = [ValueShape(height: size, width: size, channels: 3)]
        var steps: [Step] = []
        for (i, op) in definition.operations.enumerated() {
            let output = i + 1
            switch op {
            case .conv(let c, let input, let residual):
                let s = shapes[input]
                precondition(s.channels == c.inChannels, "\(c.weight): \(s.channels) input channels, expected \(c.inChannels)")
                let (top, bottom) = Network.padding(c.padding, input: s.height, kernel: c.kernel, stride: c.stride)
                let (left, right) = Network.padding(c.padding, input: s.width, kernel: c.kernel, stride: c.stride)
                let shape = ConvShape(inChannels: c.inChannels, outChannels: c.outChannels, kernelH: c.kernel,
                                      kernelW: c.kernel, strideH: c.stride, strideW: c.stride, padTop: top,
                                      padLeft: left, padBottom: bottom, padRight: right, groups: c.groups,
                                      activation: c.activation)
                let (w, b) = Network.fold(c, weights, epsilon: definition.batchNormEpsilon)
                let conv = Conv2D(shape: shape, weights: w, bias: b)
                let (oh, ow) = conv.outputSize(height: s.height, width: s.width)
                precondition(oh > 0 && ow > 0, "input \(size)x\(size) too small for \(definition.name)")
                let out = ValueShape(height: oh, width: ow, channels: c.outChannels)
                if let r = residual {
                    precondition(shapes[r] == out, "\(c.weight): residual shape \(shapes[r]) != \(out)")
                }
                shapes.append(out)
                steps.append(.conv(conv, input: input, residual: residual, output: output))
            case .maxPool(let k, let stride, let pad, let input):
                let s = shapes[input]
                let (oh, ow) = poolOutputSize(height: s.height, width: s.width, kernel: k, stride: stride, padding: pad)
                shapes.append(ValueShape(height: oh, width: ow, channels: s.channels))
                steps.append(.maxPool(kernel: k, stride: stride, padding: pad, input: input, output: output))
            }
        }
        let plan = BufferPlan(definition: definition, valueCount: shapes.count)
        self.steps = steps
        self.shapes = shapes
        self.arenaOf = plan.arenaOf
        self.arenaCount = plan.arenaCount
        self.arenaStride = shapes.dropFirst().map(\.count).max() ?? 0
        classifierWeight = weights[definition.classifierWeight]!.data
        classifierBias = weights[definition.classifierBias]!.data
    }

    deinit { arenas?.deallocate() }

    /// TF 'SAME' or fixed symmetric padding for one axis.
    static func padding(_ p: NetworkDefinition.Padding, input: Int, kernel: Int, stride: Int) -> (Int, Int) {
        switch p {
        case .symmetric(let n): return (n, n)
        case .same:
            let out = (input + stride - 1) / stride
            let total = max((out - 1) * stride + kernel - input, 0)
            return (total / 2, total - total / 2)
        }
    }

    /// Folds y = gamma * (conv(x) + b - mean) / sqrt(var + eps) + beta into conv weights and a bias
    /// (in Double, so folding adds no error of its own).
    static func fold(_ c: NetworkDefinition.Conv, _ weights: [String: WeightTensor], epsilon: Float) -> ([Float], [Float]) {
        let w = weights[c.weight]!.data
        var bias = c.bias.map { weights[$0]!.data.map(Double.init) } ?? [Double](repeating: 0, count: c.outChannels)
        guard let bn = c.batchNorm else { return (w, bias.map { Float($0) }) }
        let gamma = weights[bn + ".weight"]!.data, beta = weights[bn + ".bias"]!.data
        let mean = weights[bn + ".running_mean"]!.data, variance = weights[bn + ".running_var"]!.data
        let perOut = w.count / c.outChannels
        var folded = [Float](repeating: 0, count: w.count)
        for o in 0..<c.outChannels {
            let scale = Double(gamma[o]) / (Double(variance[o]) + Double(epsilon)).squareRoot()
            for j in 0..<perOut { folded[o * perOut + j] = Float(Double(w[o * perOut + j]) * scale) }
            bias[o] = (bias[o] - Double(mean[o])) * scale + Double(beta[o])
        }
        return (folded, bias.map { Float($0) })
    }

    private func ensureArenas(batch: Int) {
        guard batch > arenaBatch else { return }
        arenas?.deallocate()
        let count = max(1, arenaCount * arenaStride * batch)
        arenas = .allocate(capacity: count)
        arenas!.initialize(repeating: 0, count: count)
        arenaBatch = batch
    }

    /// Runs `batch` images (NHWC, inputSize x inputSize x 3 each). Writes the pooled features
    /// ([batch x embeddingSize], not normalised) and the logits ([batch x classes]).
    func forward(input: UnsafePointer<Float>, batch: Int, features: UnsafeMutablePointer<Float>,
                 logits: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        ensureArenas(batch: batch)
        let base = arenas!
        let stride = arenaStride * batch
        func value(_ v: Int) -> UnsafeMutablePointer<Float>? { v == 0 ? nil : base + arenaOf[v] * stride }
        func read(_ v: Int) -> UnsafePointer<Float> { v == 0 ? input : UnsafePointer(base + arenaOf[v] * stride) }

        for step in steps {
            switch step {
            case .conv(let conv, let input, let residual, let output):
                let s = shapes[input]
                conv.forward(input: read(input), batch: batch, height: s.height, width: s.width,
                             output: value(output)!, residual: residual.map { read($0) }, pool: pool)
            case .maxPool(let k, let st, let pad, let input, let output):
                let s = shapes[input]
                maxPool2D(read(input), batch: batch, height: s.height, width: s.width, channels: s.channels,
                          kernel: k, stride: st, padding: pad, output: value(output)!, pool: pool)
            }
        }
        let f = shapes[definition.features]
        globalAveragePool(read(definition.features), batch: batch, height: f.height, width: f.width,
                          channels: f.channels, output: features)
        classifierWeight.withUnsafeBufferPointer { w in
            classifierBias.withUnsafeBufferPointer { b in
                fullyConnected(UnsafePointer(features), batch: batch, inFeatures: f.channels, outFeatures: classes,
                               weights: w.baseAddress!, bias: b.baseAddress!, output: logits, pool: pool)
            }
        }
    }
}

/// Which arena holds each value. Greedy: the output of step i takes the first arena whose value is
/// no longer read at or after step i (so an output never overwrites one of its own inputs). The
/// plan depends only on the graph, not on sizes: every arena is as large as the largest value.
struct BufferPlan {
    /// Arena per value; -1 for the input (value 0), which stays in the caller's memory.
    let arenaOf: [Int]
    let arenaCount: Int

    init(definition: NetworkDefinition, valueCount: Int) {
        var lastUse = [Int](repeating: -1, count: valueCount)
        for (i, op) in definition.operations.enumerated() {
            switch op {
            case .conv(_, let input, let residual):
                lastUse[input] = i
                if let r = residual { lastUse[r] = i }
            case .maxPool(_, _, _, let input):
                lastUse[input] = i
            }
        }
        lastUse[definition.features] = definition.operations.count   // read by the pooling head
        var arenaOf = [Int](repeating: -1, count: valueCount)
        var holder: [Int] = []   // value currently in each arena
        for i in 0..<definition.operations.count {
            let output = i + 1
            if let free = holder.indices.first(where: { lastUse[holder[$0]] < i }) {
                holder[free] = output
                arenaOf[output] = free
            } else {
                holder.append(output)
                arenaOf[output] = holder.count - 1
            }
        }
        self.arenaOf = arenaOf
        arenaCount = holder.count
    }
}
