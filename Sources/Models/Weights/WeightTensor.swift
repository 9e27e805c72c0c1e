import Foundation

/// One named weight array, always float32 and contiguous (row-major, PyTorch's shape order), so
/// networks never deal with dtypes, views or strides: loaders convert once at load time.
public struct WeightTensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]
    public init(shape: [Int], data: [Float]) {
        self.shape = shape
        self.data = data
    }
    public var count: Int { shape.reduce(1, *) }
}

/// A weight file that cannot be used, with the file and the reason (description is "PATH: reason",
/// the form the CLI prints after `corral: `).
public struct WeightsError: Error, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        case unreadable      // cannot open or read the file
        case truncated       // the file ends before the structure it announces
        case corrupt         // inconsistent structure (bad offsets, shapes, opcodes)
        case unsupported     // valid but a variant we do not read (compressed zip member, big-endian, ...)
        case unsafe          // the pickle asks for a global outside the tensor-rebuild allow-list
        case unknownArchitecture
        case notInstalled
        case invalidName
    }
    public var path: String
    public var kind: Kind
    public var reason: String
    public init(path: String, kind: Kind, reason: String) {
        self.path = path
        self.kind = kind
        self.reason = reason
    }
    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}

/// Element types found in checkpoints. Integer ones (num_batches_tracked) are recognised so they can
/// be skipped by name instead of failing the whole file.
public enum WeightDType: String, Sendable {
    case float32, float16, bfloat16, float64
    case int64, int32, int16, int8, uint8, bool

    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: return true
        default: return false
        }
    }
}

/// Reads `count` elements of `dtype` starting at `base` (little-endian, any alignment) as Float.
/// Index arithmetic is the caller's job; this only converts.
@inline(__always)
func loadElement(_ base: UnsafeRawPointer, _ index: Int, _ dtype: WeightDType) -> Float {
    switch dtype {
    case .float32:
        return Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self)))
    case .float16:
        let bits = UInt16(littleEndian: base.loadUnaligned(fromByteOffset: index &* 2, as: UInt16.self))
        return halfToFloat(bits)
    case .bfloat16:
        let bits = UInt16(littleEndian: base.loadUnaligned(fromByteOffset: index &* 2, as: UInt16.self))
        return Float(bitPattern: UInt32(bits) << 16)
    case .float64:
        return Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index &* 8, as: UInt64.self))))
    case .int64:
        return Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: index &* 8, as: Int64.self)))
    case .int32:
        return Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: index &* 4, as: Int32.self)))
    case .int16:
        return Float(Int16(littleEndian: base.loadUnaligned(fromByteOffset: index &* 2, as: Int16.self)))
    case .int8:
        return Float(base.load(fromByteOffset: index, as: Int8.self))
    case .uint8, .bool:
        return Float(base.load(fromByteOffset: index, as: UInt8.self))
    }
}

/// IEEE half to single by bit manipulation (no dependency on the platform's Float16 support).
@inline(__always)
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = UInt32(h >> 10) & 0x1F
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
        // Zero or subnormal: value = mantissa * 2^-24.
        let magnitude = Float(mantissa) * Float(bitPattern: 0x3380_0000)
        return sign == 0 ? magnitude : -magnitude
    }
    if exponent == 0x1F {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}

/// Copies a strided view of a storage into a contiguous Float array (torch semantics: element
/// (i0, i1, ...) lives at offset + sum(ik * stride_k)). The caller has bounds-checked the view.
func gatherStrided(base: UnsafeRawPointer, dtype: WeightDType, offset: Int, shape: [Int], strides: [Int]) -> [Float] {
    let total = shape.reduce(1, *)
    if total == 0 { return [] }
    var out = [Float](repeating: 0, count: total)
    var contiguous = true
    var expected = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] != 1 {
        if strides[axis] != expected { contiguous = false; break }
        expected *= shape[axis]
    }
    out.withUnsafeMutableBufferPointer { dst in
        if contiguous {
            if dtype == .float32 {
                memcpy(dst.baseAddress!, base + offset * 4, total * 4)
            } else {
                for i in 0..<total { dst[i] = loadElement(base, offset + i, dtype) }
            }
            return
        }
        // Odometer over all axes but the last; the innermost axis is a strided run.
        let rank = shape.count
        var index = [Int](repeating: 0, count: rank)
        let inner = shape[rank - 1], innerStride = strides[rank - 1]
        var position = offset
        var o = 0
        while o < total {
            var p = position
            for _ in 0..<inner {
                dst[o] = loadElement(base, p, dtype)
                o += 1
                p += innerStride
            }
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                position += strides[axis]
                if index[axis] < shape[axis] { break }
                position -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { break }
        }
    }
    return out
}
