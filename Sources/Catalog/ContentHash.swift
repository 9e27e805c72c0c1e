import Foundation

/// A fast non-cryptographic 128-bit hash of a file's bytes, used as the identity of its content so a
/// renamed or moved photo keeps its embedding, flags and duplicate decisions.
///
/// Construction (our own, in the style of XXH64): the input is read as little-endian 64-bit words in
/// 32-byte stripes; four independent lanes each do `acc = rotl(acc + w * P2, 31) * P1`, which keeps
/// four multiply chains in flight per stripe (the speed) and makes every input bit reach 64 state
/// bits after one round. At the end the 256-bit state, the tail bytes and the length are folded into
/// two different 64-bit words (different rotations, multipliers and final avalanches), giving 128
/// bits. It is not a defence against an attacker crafting collisions; for accidental collisions in a
/// library of n files the chance is about n^2 / 2^129. Width 128 rather than 64 so that even a
/// million-photo library stays far from the birthday bound.
public struct ContentHasher {
    private static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    private var v1: UInt64, v2: UInt64, v3: UInt64, v4: UInt64
    private var tail: [UInt8] = []      // < 32 bytes not yet consumed
    private var length: UInt64 = 0

    public init(seed: UInt64 = 0) {
        v1 = seed &+ Self.p1 &+ Self.p2
        v2 = seed &+ Self.p2
        v3 = seed
        v4 = seed &- Self.p1
    }

    @inline(__always) private static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
    @inline(__always) private static func round(_ acc: UInt64, _ w: UInt64) -> UInt64 {
        rotl(acc &+ w &* p2, 31) &* p1
    }
    @inline(__always) private static func merge(_ h: UInt64, _ v: UInt64) -> UInt64 {
        (h ^ round(0, v)) &* p1 &+ p4
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, let base = bytes.baseAddress else { return }
        length &+= UInt64(bytes.count)
        var offset = 0
        if !tail.isEmpty {
            let need = 32 - tail.count
            let take = min(need, bytes.count)
            tail.append(contentsOf: UnsafeRawBufferPointer(start: base, count: take))
            offset = take
            if tail.count < 32 { return }
            tail.withUnsafeBytes { consumeStripes($0.baseAddress!, count: 1) }
            tail.removeAll(keepingCapacity: true)
        }
        let stripes = (bytes.count - offset) / 32
        if stripes > 0 { consumeStripes(base + offset, count: stripes) }
        offset += stripes * 32
        if offset < bytes.count {
            tail.append(contentsOf: UnsafeRawBufferPointer(start: base + offset, count: bytes.count - offset))
        }
    }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    private mutating func consumeStripes(_ p: UnsafeRawPointer, count: Int) {
        var a = v1, b = v2, c = v3, d = v4
        var q = p
        for _ in 0..<count {
            a = Self.round(a, UInt64(littleEndian: q.loadUnaligned(as: UInt64.self)))
            b = Self.round(b, UInt64(littleEndian: q.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            c = Self.round(c, UInt64(littleEndian: q.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
            d = Self.round(d, UInt64(littleEndian: q.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
            q += 32
        }
        v1 = a; v2 = b; v3 = c; v4 = d
    }

    /// The two 64-bit halves.
    public func finalize() -> (UInt64, UInt64) {
        typealias H = ContentHasher
        var h = H.rotl(v1, 1) &+ H.rotl(v2, 7) &+ H.rotl(v3, 12) &+ H.rotl(v4, 18)
        h = H.merge(h, v1); h = H.merge(h, v2); h = H.merge(h, v3); h = H.merge(h, v4)
        // The second half sees the lanes in another order and rotation so the halves are independent.
        var g = H.rotl(v4, 3) &+ H.rotl(v3, 17) &+ H.rotl(v2, 29) &+ H.rotl(v1, 41) &+ H.p5
        g = H.merge(g, v4 ^ v2); g = H.merge(g, v3 &+ v1); g = H.merge(g, H.rotl(v2, 23)); g = H.merge(g, H.rotl(v1, 47))
        h &+= length
        g ^= length &* H.p3
        for byte in tail {
            h ^= UInt64(byte) &* H.p5
            h = H.rotl(h, 11) &* H.p1
            g ^= UInt64(byte) &* H.p1
            g = H.rotl(g, 23) &* H.p4
        }
        // xxHash avalanche for the first half, MurmurHash3 fmix64 for the second.
        h ^= h >> 33; h &*= H.p2; h ^= h >> 29; h &*= H.p3; h ^= h >> 32
        g ^= g >> 33; g &*= 0xFF51_AFD7_ED55_8CCD; g ^= g >> 33; g &*= 0xC4CE_B9FE_1A85_EC53; g ^= g >> 33
        return (h, g)
    }

    /// 32 lowercase hex digits.
    public func hexDigest() -> String {
        let (a, b) = finalize()
        return ContentHasher.hex(a) + ContentHasher.hex(b)
    }

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    public static func hash(_ bytes: [UInt8]) -> String {
        var h = ContentHasher(); h.update(bytes); return h.hexDigest()
    }
}
