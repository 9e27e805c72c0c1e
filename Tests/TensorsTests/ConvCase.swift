import Tensors
import TestSupport

/// The random input, weights, bias and residual of one convolution test, and the naive reference's
/// output for them: what ConvTests (through Conv2D) and GemmTests (through the GEMM drivers) both
/// check against. Drawn in a fixed order from one seed, so a case is the same wherever it is built.
struct ConvCase {
    let x: [Float], weights: [Float], bias: [Float]
    /// nil when the case has no residual.
    let residual: [Float]?
    let expected: [Float]
    let outputSize: (height: Int, width: Int)

    static func random(_ count: Int, _ rng: inout SeededRNG, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in rng.nextSigned() * scale }
    }

    init(_ s: ConvShape, batch: Int, height: Int, width: Int, residual: Bool, seed: UInt64) {
        var rng = SeededRNG(seed: seed)
        x = ConvCase.random(batch * height * width * s.inChannels, &rng)
        let fanIn = s.inChannelsPerGroup * s.kernelH * s.kernelW
        weights = ConvCase.random(s.outChannels * fanIn, &rng, scale: 1 / Float(fanIn).squareRoot())
        bias = ConvCase.random(s.outChannels, &rng)
        outputSize = s.outputSize(height: height, width: width)
        self.residual = residual ? ConvCase.random(batch * outputSize.height * outputSize.width * s.outChannels, &rng) : nil
        expected = Reference.conv2d(input: x, batch: batch, height: height, width: width, shape: s,
                                    weights: weights, bias: bias, residual: self.residual)
    }
}
