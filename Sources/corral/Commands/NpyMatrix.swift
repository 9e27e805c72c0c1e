import Foundation

/// An N x D float32 matrix read from a NumPy .npy file (format versions 1.0 and 2.0, little-endian
/// '<f4', C order): what `corral cluster --embeddings` accepts. Anything else is refused with the
/// reason, never reinterpreted.
struct NpyMatrix {
    var rows: Int
    var cols: Int
    var values: [Float]

    struct Failure: Error, CustomStringConvertible {
        let path: String, reason: String
        var description: String { "\(path): \(reason)" }
    }

    static func read(path: String) throws -> NpyMatrix {
        func fail(_ r: String) -> Failure { Failure(path: path, reason: r) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) }
        catch { throw fail("cannot read: \((error as NSError).localizedDescription)") }
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw fail("not a .npy file (missing the \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerLen: Int, headerStart: Int
        switch major {
        case 1: headerLen = Int(bytes[8]) | Int(bytes[9]) << 8; headerStart = 10
        case 2:
            guard bytes.count >= 12 else { throw fail("truncated .npy header") }
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24; headerStart = 12
        default: throw fail(".npy format version \(major).\(bytes[7]) is not supported (expected 1.0)")
        }
        guard data.count >= headerStart + headerLen else { throw fail("truncated .npy header") }
        let header = String(decoding: data[headerStart..<(headerStart + headerLen)], as: UTF8.self)
        guard let descr = field(header, "descr") else { throw fail("header has no 'descr'") }
        let dtype = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        guard dtype == "<f4" || dtype == "f4" else {
            throw fail("dtype '\(dtype)' is not supported; expected little-endian float32 ('<f4'), e.g. x.astype('<f4')")
        }
        if let fo = field(header, "fortran_order"), fo.contains("True") {
            throw fail("Fortran-order arrays are not supported; save np.ascontiguousarray(x)")
        }
        guard let shapeText = field(header, "shape") else { throw fail("header has no 'shape'") }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard dims.count == 2, let n = Int(dims[0]), let d = Int(dims[1]) else {
            throw fail("shape (\(dims.joined(separator: ", "))) is not N x D (a 2-D array is expected)")
        }
        guard n > 0, d > 0 else { throw fail("shape (\(n), \(d)) is empty") }
        let start = headerStart + headerLen
        let (need, overflow) = n.multipliedReportingOverflow(by: d * 4)
        guard !overflow, data.count - start >= need else {
            throw fail("truncated: \(n) x \(d) float32 needs \(need) bytes of data, the file has \(data.count - start)")
        }
        var values = [Float](repeating: 0, count: n * d)
        values.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[start..<(start + need)]))
            }
        }
        #if _endian(big)
        values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
        #endif
        return NpyMatrix(rows: n, cols: d, values: values)
    }

    /// The text after `'key':` up to the next top-level comma (shape tuples keep their commas).
    private static func field(_ header: String, _ key: String) -> String? {
        guard let r = header.range(of: "'\(key)':") ?? header.range(of: "\"\(key)\":") else { return nil }
        var depth = 0
        var out = ""
        for ch in header[r.upperBound...] {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1; if depth < 0 { break } }
            if (ch == "," || ch == "}") && depth == 0 { break }
            out.append(ch)
        }
        return out.trimmingCharacters(in: .whitespaces)
    }
}
