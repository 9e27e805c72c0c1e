import Foundation

/// The part of the zip format that torch >= 1.6 checkpoints use: a central directory of stored
/// (uncompressed) members, possibly with zip64 records (torch's writer always adds the zip64 end
/// records). Members are returned as byte ranges of the mapped file, so tensors are read in place.
/// Compression, encryption and multi-disk archives are refused by name.
struct ZipArchive {
    struct Entry {
        var name: String
        var dataOffset: Int
        var size: Int
        var crc32: UInt32
    }

    var entries: [String: Entry] = [:]
    var order: [String] = []

    init(bytes: UnsafeRawBufferPointer, path: String) throws {
        let r = ByteView(bytes: bytes, path: path)
        let n = bytes.count
        guard n >= 22 else { throw r.error(.truncated, "zip file too short for an end-of-central-directory record") }

        // The end record sits in the last 22 + 65535 (comment) bytes; search backwards for its signature.
        var eocd = -1
        var p = n - 22
        let lowest = max(0, n - 22 - 65_535)
        while p >= lowest {
            if try r.u32(p) == 0x0605_4B50 { eocd = p; break }
            p -= 1
        }
        guard eocd >= 0 else { throw r.error(.corrupt, "no zip end-of-central-directory record (truncated download?)") }

        var diskNumber = Int(try r.u16(eocd + 4)), cdDisk = Int(try r.u16(eocd + 6))
        var count = Int(try r.u16(eocd + 10))
        var cdSize = Int(try r.u32(eocd + 12)), cdOffset = Int(try r.u32(eocd + 16))

        // zip64: a locator right before the end record points at the zip64 end record.
        if eocd >= 20, try r.u32(eocd - 20) == 0x0706_4B50 {
            let z = try r.u64(eocd - 20 + 8)
            guard try r.u32(eocd - 20 + 16) <= 1 else { throw r.error(.unsupported, "multi-disk zip archives are not supported") }
            guard z >= 0, z <= n - 56, try r.u32(z) == 0x0606_4B50 else {
                throw r.error(.corrupt, "zip64 locator points outside the file or at a bad record")
            }
            diskNumber = Int(try r.u32(z + 16)); cdDisk = Int(try r.u32(z + 20))
            count = try r.u64(z + 32); cdSize = try r.u64(z + 40); cdOffset = try r.u64(z + 48)
        } else if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            throw r.error(.corrupt, "zip end record needs zip64 values but has no zip64 locator")
        }
        guard diskNumber == 0, cdDisk == 0 else { throw r.error(.unsupported, "multi-disk zip archives are not supported") }
        guard cdOffset >= 0, cdSize >= 0, cdOffset <= n, cdSize <= n - cdOffset else {
            throw r.error(.truncated, "zip central directory (offset \(cdOffset), \(cdSize) bytes) lies outside the \(n)-byte file")
        }
        guard count <= cdSize / 46 else { throw r.error(.corrupt, "zip central directory too small for \(count) entries") }

        var q = cdOffset
        for _ in 0..<count {
            guard q <= cdOffset + cdSize - 46, try r.u32(q) == 0x0201_4B50 else {
                throw r.error(.corrupt, "bad zip central directory entry at offset \(q)")
            }
            let flags = try r.u16(q + 8), method = try r.u16(q + 10)
            let crc = UInt32(try r.u32(q + 16))
            var compressed = Int(try r.u32(q + 20)), uncompressed = Int(try r.u32(q + 24))
            let nameLength = Int(try r.u16(q + 28)), extraLength = Int(try r.u16(q + 30)), commentLength = Int(try r.u16(q + 32))
            var startDisk = Int(try r.u16(q + 34))
            var localOffset = Int(try r.u32(q + 42))
            let name = try r.string(q + 46, nameLength)

            // zip64 extended information: only the saturated fields are present, in this order.
            var e = q + 46 + nameLength
            let extraEnd = e + extraLength
            guard extraEnd <= cdOffset + cdSize else { throw r.error(.corrupt, "zip entry \(name): extra field overruns the directory") }
            while e + 4 <= extraEnd {
                let id = try r.u16(e), size = Int(try r.u16(e + 2))
                guard e + 4 + size <= extraEnd else { throw r.error(.corrupt, "zip entry \(name): bad extra field") }
                if id == 0x0001 {
                    var f = e + 4
                    func next(_ width: Int) throws -> Int {
                        guard f + width <= e + 4 + size else { throw r.error(.corrupt, "zip entry \(name): short zip64 field") }
                        defer { f += width }
                        return width == 8 ? try r.u64(f) : Int(try r.u32(f))
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try next(8) }
                    if compressed == 0xFFFF_FFFF { compressed = try next(8) }
                    if localOffset == 0xFFFF_FFFF { localOffset = try next(8) }
                    if startDisk == 0xFFFF { startDisk = try next(4) }
                }
                e += 4 + size
            }
            q = extraEnd + commentLength

            guard flags & 0x1 == 0 else { throw r.error(.unsupported, "zip entry \(name) is encrypted") }
            guard method == 0 else {
                throw r.error(.unsupported, "zip entry \(name) is compressed (method \(method)); torch checkpoints store tensors uncompressed")
            }
            guard compressed == uncompressed else { throw r.error(.corrupt, "zip entry \(name): stored entry with differing sizes") }
            guard startDisk == 0 else { throw r.error(.unsupported, "multi-disk zip archives are not supported") }
            guard localOffset >= 0, localOffset <= n - 30, try r.u32(localOffset) == 0x0403_4B50 else {
                throw r.error(.corrupt, "zip entry \(name): local header missing at offset \(localOffset)")
            }
            let localName = Int(try r.u16(localOffset + 26)), localExtra = Int(try r.u16(localOffset + 28))
            let dataOffset = localOffset + 30 + localName + localExtra
            guard uncompressed >= 0, dataOffset <= n, uncompressed <= n - dataOffset else {
                throw r.error(.truncated, "zip entry \(name) (\(uncompressed) bytes at offset \(dataOffset)) runs past the end of the file")
            }
            if entries[name] == nil { order.append(name) }
            entries[name] = Entry(name: name, dataOffset: dataOffset, size: uncompressed, crc32: crc)
        }
    }
}

/// Bounds-checked little-endian reads from a mapped file; every failure is a WeightsError naming it.
struct ByteView {
    let bytes: UnsafeRawBufferPointer
    let path: String

    func error(_ kind: WeightsError.Kind, _ reason: String) -> WeightsError {
        WeightsError(path: path, kind: kind, reason: reason)
    }

    private func check(_ offset: Int, _ width: Int) throws {
        guard offset >= 0, width <= bytes.count, offset <= bytes.count - width else {
            throw error(.truncated, "file ends before offset \(offset) + \(width)")
        }
    }
    func u16(_ o: Int) throws -> Int {
        try check(o, 2)
        return Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt16.self)))
    }
    func u32(_ o: Int) throws -> Int {
        try check(o, 4)
        return Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
    }
    /// A 64-bit field as Int; values that do not fit are corrupt by definition for a file we can map.
    func u64(_ o: Int) throws -> Int {
        try check(o, 8)
        let v = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self))
        guard v <= UInt64(Int.max) else { throw error(.corrupt, "64-bit field at offset \(o) out of range") }
        return Int(v)
    }
    func string(_ o: Int, _ length: Int) throws -> String {
        try check(o, length)
        guard let s = String(bytes: UnsafeRawBufferPointer(rebasing: bytes[o..<(o + length)]), encoding: .utf8) else {
            throw error(.corrupt, "name at offset \(o) is not UTF-8")
        }
        return s
    }
}

/// CRC-32 (IEEE, reflected), to notice a damaged zip member before its bytes become weights.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }
}
