import Foundation

/// safetensors: an 8-byte little-endian header length, a JSON header
/// `{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}`,
/// then raw little-endian data. It is the model folder's format: no code in it by construction, the
/// ecosystem reads it, and it maps straight into memory.
public enum SafeTensors {
    /// The header is JSON text; anything this large is not a real header.
    static let maxHeaderBytes = 100 << 20

    /// Reads every floating-point tensor (F32/F16/BF16/F64, converted to Float). Integer tensors are skipped.
    public static func read(path: String) throws -> [String: WeightTensor] {
        let data = try mapFile(path)
        return try data.withUnsafeBytes { raw in
            let header = try parseHeader(raw, path: path)
            let dataStart = 8 + header.length
            var out: [String: WeightTensor] = [:]
            for entry in header.tensors where entry.dtype.isFloatingPoint {
                let base = raw.baseAddress! + dataStart + entry.begin
                let values = entry.count == 0 ? [] : gatherStrided(base: base, dtype: entry.dtype, offset: 0,
                                                                   shape: [entry.count], strides: [1])
                out[entry.name] = WeightTensor(shape: entry.shape, data: values)
            }
            return out
        }
    }

    /// Only the `__metadata__` strings (architecture, source, ...), without touching tensor data.
    public static func readMetadata(path: String) throws -> [String: String] {
        let data = try mapFile(path)
        return try data.withUnsafeBytes { try parseHeader($0, path: path).metadata }
    }

    /// Writes float32 tensors under their original names, atomically: a temporary file in the same
    /// folder, flushed, then renamed over the destination, so a crash never leaves half a model.
    public static func write(_ tensors: [String: WeightTensor], to path: String, metadata: [String: String]) throws {
        let names = tensors.keys.sorted()
        var header = "{"
        if !metadata.isEmpty {
            header += "\"__metadata__\":{"
            header += metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
            header += "},"
        }
        var offset = 0
        var parts: [String] = []
        for name in names {
            let t = tensors[name]!
            guard t.data.count == t.count else {
                throw WeightsError(path: path, kind: .corrupt, reason: "tensor \(name) has \(t.data.count) values for shape \(t.shape)")
            }
            let end = offset + t.data.count * 4
            parts.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        header += parts.joined(separator: ",") + "}"
        if header.hasSuffix(",}") { header.removeLast(2); header += "}" }
        var headerBytes = Array(header.utf8)
        // Pad with spaces so the data starts 8-byte aligned (what the reference writer does).
        while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(0x20) }

        let destination = URL(fileURLWithPath: path)
        let folder = destination.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw WeightsError(path: path, kind: .unreadable, reason: "cannot create a file in \(folder.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            var length = UInt64(headerBytes.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: Data(headerBytes))
            for name in names {
                try tensors[name]!.data.withUnsafeBytes { try handle.write(contentsOf: Data($0)) }
            }
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw WeightsError(path: path, kind: .unreadable, reason: "cannot write: \((error as NSError).localizedDescription)")
        }
        guard rename(temporary.path, destination.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw WeightsError(path: path, kind: .unreadable, reason: "cannot move the new file into place: \(reason)")
        }
    }

    // MARK: - Header

    struct Entry {
        var name: String
        var dtype: WeightDType
        var shape: [Int]
        var count: Int
        var begin: Int
    }

    struct Header {
        var length: Int
        var tensors: [Entry]
        var metadata: [String: String]
    }

    static func parseHeader(_ raw: UnsafeRawBufferPointer, path: String) throws -> Header {
        let r = ByteView(bytes: raw, path: path)
        guard raw.count >= 8 else { throw r.error(.truncated, "safetensors file too short for its header length") }
        let length = try r.u64(0)
        guard length <= maxHeaderBytes else { throw r.error(.corrupt, "safetensors header length \(length) is implausible") }
        guard length <= raw.count - 8 else { throw r.error(.truncated, "file ends inside the \(length)-byte safetensors header") }
        let json = Data(UnsafeRawBufferPointer(rebasing: raw[8..<(8 + length)]))
        guard let object = try? JSONSerialization.jsonObject(with: json), let doc = object as? [String: Any] else {
            throw r.error(.corrupt, "safetensors header is not a JSON object")
        }
        let dataLength = raw.count - 8 - length
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in doc {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw r.error(.corrupt, "__metadata__ is not an object") }
                for (k, v) in m { if let s = v as? String { metadata[k] = s } }
                continue
            }
            guard let t = value as? [String: Any], let code = t["dtype"] as? String,
                  let shape = t["shape"] as? [Int], let offsets = t["data_offsets"] as? [Int], offsets.count == 2 else {
                throw r.error(.corrupt, "tensor \(name): header entry lacks dtype, shape or data_offsets")
            }
            let dtypes: [String: WeightDType] = [
                "F32": .float32, "F16": .float16, "BF16": .bfloat16, "F64": .float64, "I64": .int64,
                "I32": .int32, "I16": .int16, "I8": .int8, "U8": .uint8, "BOOL": .bool,
            ]
            guard let dtype = dtypes[code] else { throw r.error(.unsupported, "tensor \(name): dtype \(code) is not supported") }
            var count = 1
            for s in shape {
                let m = count.multipliedReportingOverflow(by: s)
                guard s >= 0, !m.overflow else { throw r.error(.corrupt, "tensor \(name): bad shape \(shape)") }
                count = m.partialValue
            }
            let (begin, end) = (offsets[0], offsets[1])
            let bytes = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard begin >= 0, end >= begin, end <= dataLength, !bytes.overflow, end - begin == bytes.partialValue else {
                throw r.error(end > dataLength ? .truncated : .corrupt,
                              "tensor \(name): data [\(begin), \(end)) does not fit shape \(shape) of \(code) in \(dataLength) data bytes")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, count: count, begin: begin))
        }
        return Header(length: length, tensors: entries.sorted { $0.begin < $1.begin }, metadata: metadata)
    }

    /// A JSON string literal for `s` (quotes, backslashes and control characters escaped). Public
    /// because the command line's JSON output escapes its strings the same way.
    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    /// True when the bytes look like a safetensors file (plausible header length, then '{').
    static func looksLikeSafeTensors(_ raw: UnsafeRawBufferPointer) -> Bool {
        guard raw.count >= 9 else { return false }
        let length = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        return length >= 2 && length <= UInt64(raw.count - 8) && raw[8] == UInt8(ascii: "{")
    }
}
