/// The few EXIF fields Corral uses, read from a TIFF structure. Every offset and count is checked
/// against the buffer, loops are bounded and IFD cycles are refused, so garbage yields "no EXIF"
/// instead of a crash or a hang.
struct ExifInfo: Equatable {
    var orientation: Int = 1
    var make: String?
    var model: String?
    var dateTimeOriginal: String?
    var fieldCount: Int = 0
}

enum Exif {
    /// Parses TIFF data ("II*\0" or "MM\0*"), optionally preceded by the "Exif\0\0" APP1 header.
    static func parse(_ bytes: ArraySlice<UInt8>) -> ExifInfo? {
        var b = bytes
        if b.count >= 6, b.starts(with: [0x45, 0x78, 0x69, 0x66, 0, 0]) { b = b.dropFirst(6) }
        let data = Array(b)
        guard data.count >= 8 else { return nil }
        let little: Bool
        if data[0] == 0x49 && data[1] == 0x49 { little = true } else if data[0] == 0x4D && data[1] == 0x4D { little = false } else { return nil }
        let reader = TIFFReader(data: data, little: little)
        guard reader.u16(2) == 42, let ifd0 = reader.u32(4) else { return nil }
        var info = ExifInfo()
        var visited = Set<Int>()
        guard let entries0 = reader.entries(at: Int(ifd0), visited: &visited) else { return nil }
        info.fieldCount += entries0.count
        var exifIFD: Int?, gpsIFD: Int?
        for e in entries0 {
            switch e.tag {
            case 0x0112:
                if let v = reader.shortValue(e), (1...8).contains(v) { info.orientation = v }
            case 0x010F: info.make = reader.ascii(e)
            case 0x0110: info.model = reader.ascii(e)
            case 0x8769: exifIFD = reader.longValue(e)
            case 0x8825: gpsIFD = reader.longValue(e)
            default: break
            }
        }
        if let off = exifIFD, let entries = reader.entries(at: off, visited: &visited) {
            info.fieldCount += entries.count
            for e in entries where e.tag == 0x9003 { info.dateTimeOriginal = reader.ascii(e) }
        }
        if let off = gpsIFD, let entries = reader.entries(at: off, visited: &visited) {
            info.fieldCount += entries.count
        }
        return info
    }

    /// The TIFF payload of the first "Exif" APP1 segment, scanning markers up to the first SOS.
    static func fromJPEG(_ d: [UInt8]) -> ArraySlice<UInt8>? {
        guard d.count >= 4, d[0] == 0xFF, d[1] == 0xD8 else { return nil }
        var i = 2
        while i + 4 <= d.count {
            guard d[i] == 0xFF else { return nil }
            let marker = d[i + 1]
            if marker == 0xFF { i += 1; continue }  // fill bytes
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }
            if marker == 0xDA || marker == 0xD9 { return nil }  // image data starts: EXIF must come before
            let length = Int(d[i + 2]) << 8 | Int(d[i + 3])
            guard length >= 2, i + 2 + length <= d.count else { return nil }
            let start = i + 4, end = i + 2 + length
            if marker == 0xE1, end - start >= 6, d[start..<(start + 6)].elementsEqual([0x45, 0x78, 0x69, 0x66, 0, 0]) {
                return d[(start + 6)..<end]
            }
            i = end
        }
        return nil
    }

    /// The payload of the eXIf chunk, walking chunks by their lengths (CRCs are libpng's business).
    static func fromPNG(_ d: [UInt8]) -> ArraySlice<UInt8>? {
        var i = 8
        while i + 12 <= d.count {
            let length = Int(d[i]) << 24 | Int(d[i + 1]) << 16 | Int(d[i + 2]) << 8 | Int(d[i + 3])
            guard length >= 0, length <= d.count - i - 12 else { return nil }
            let type = d[(i + 4)..<(i + 8)]
            if type.elementsEqual([0x65, 0x58, 0x49, 0x66]) { return d[(i + 8)..<(i + 8 + length)] }  // eXIf
            if type.elementsEqual([0x49, 0x45, 0x4E, 0x44]) { return nil }  // IEND
            i += 12 + length
        }
        return nil
    }
}

private struct TIFFEntry {
    var tag: Int, type: Int, count: Int
    var valueOffset: Int  // where the value lives (inline in the entry when it fits in 4 bytes)
}

private struct TIFFReader {
    let data: [UInt8]
    let little: Bool

    func u16(_ o: Int) -> Int? {
        guard o >= 0, o + 2 <= data.count else { return nil }
        return little ? Int(data[o]) | Int(data[o + 1]) << 8 : Int(data[o]) << 8 | Int(data[o + 1])
    }

    func u32(_ o: Int) -> UInt32? {
        guard o >= 0, o + 4 <= data.count else { return nil }
        let b = (UInt32(data[o]), UInt32(data[o + 1]), UInt32(data[o + 2]), UInt32(data[o + 3]))
        return little ? b.0 | b.1 << 8 | b.2 << 16 | b.3 << 24 : b.0 << 24 | b.1 << 16 | b.2 << 8 | b.3
    }

    static let typeSizes: [Int: Int] = [1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8]

    /// Entries of the IFD at `offset`; nil if it is out of bounds or already visited (a cycle).
    func entries(at offset: Int, visited: inout Set<Int>) -> [TIFFEntry]? {
        guard offset >= 8, !visited.contains(offset), let n = u16(offset), n <= 1000,
              offset + 2 + n * 12 <= data.count else { return nil }
        visited.insert(offset)
        var result: [TIFFEntry] = []
        result.reserveCapacity(n)
        for k in 0..<n {
            let e = offset + 2 + k * 12
            guard let tag = u16(e), let type = u16(e + 2), let count = u32(e + 4) else { return nil }
            let size = (TIFFReader.typeSizes[type] ?? 0) * Int(count)
            var valueOffset = e + 8
            if size > 4 { valueOffset = Int(u32(e + 8) ?? UInt32.max) }
            result.append(TIFFEntry(tag: tag, type: type, count: Int(count), valueOffset: valueOffset))
        }
        return result
    }

    func shortValue(_ e: TIFFEntry) -> Int? {
        guard e.count >= 1 else { return nil }
        switch e.type {
        case 3: return u16(e.valueOffset)
        case 4: return u32(e.valueOffset).map { Int($0) }
        default: return nil
        }
    }

    func longValue(_ e: TIFFEntry) -> Int? {
        guard e.count >= 1 else { return nil }
        switch e.type {
        case 4, 13: return u32(e.valueOffset).map { Int($0) }
        case 3: return u16(e.valueOffset)
        default: return nil
        }
    }

    func ascii(_ e: TIFFEntry) -> String? {
        guard e.type == 2 || e.type == 7, e.count > 0, e.count <= 4096, e.valueOffset >= 0,
              e.valueOffset + e.count <= data.count else { return nil }
        var bytes = data[e.valueOffset..<(e.valueOffset + e.count)]
        if let nul = bytes.firstIndex(of: 0) { bytes = bytes[..<nul] }
        while let last = bytes.last, last == 0x20 { bytes = bytes.dropLast() }
        while let first = bytes.first, first == 0x20 { bytes = bytes.dropFirst() }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }
}
