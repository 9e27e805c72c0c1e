import Foundation

/// In-place softmax over each row of a [rows x columns] matrix; subtracts the row max first so large
/// logits cannot overflow.
public func softmax(_ data: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
    for r in 0..<rows {
        let x = data + r * columns
        var m = -Float.infinity
        for j in 0..<columns { m = max(m, x[j]) }
        var sum: Float = 0
        for j in 0..<columns { let e = expf(x[j] - m); x[j] = e; sum += e }
        let inv = 1 / sum
        for j in 0..<columns { x[j] *= inv }
    }
}

public func softmax(_ x: [Float]) -> [Float] {
    var y = x
    y.withUnsafeMutableBufferPointer { softmax($0.baseAddress!, rows: 1, columns: $0.count) }
    return y
}

/// In-place L2 normalisation of each row; an all-zero row stays zero rather than becoming NaN.
public func l2Normalize(_ data: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
    for r in 0..<rows {
        let x = data + r * columns
        var ss: Float = 0
        for j in 0..<columns { ss += x[j] * x[j] }
        if ss <= 0 { continue }
        let inv = 1 / ss.squareRoot()
        for j in 0..<columns { x[j] *= inv }
    }
}

public func l2Normalize(_ x: [Float]) -> [Float] {
    var y = x
    y.withUnsafeMutableBufferPointer { l2Normalize($0.baseAddress!, rows: 1, columns: $0.count) }
    return y
}

/// out = act(a + b), elementwise over `count` floats (out may alias a or b).
public func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                count: Int, activation: Activation = .none) {
    switch activation {
    case .none: for i in 0..<count { out[i] = a[i] + b[i] }
    case .relu: for i in 0..<count { out[i] = max(a[i] + b[i], 0) }
    case .relu6: for i in 0..<count { out[i] = min(max(a[i] + b[i], 0), 6) }
    }
}
