import Foundation

/// Memory for packed weights and activation arenas, on 2 MB pages where the kernel grants them.
///
/// Why: at batch 1 every layer's weights and activations stream through megabytes of memory per
/// image (Lite0: 18 MB of weights), far more than the TLB covers with 4 KB pages, and under a
/// hypervisor a page walk whose tables have left the cache costs a memory round trip per level.
/// Measured on this VM (paired runs, `CORRAL_HUGEPAGES=0` vs on): Lite0 1 thread batch 1 0.96x and
/// 0.99x the CPU time per image, 2 threads batch 8 0.99x, ResNeXt-50 2x8 0.99x: a small gain, never
/// a loss. Linux grants 2 MB pages to `madvise(MADV_HUGEPAGE)` regions when THP is in "madvise" or
/// "always" mode; elsewhere this is ordinary page-aligned memory.
///
/// Requests under 1 MB are bump-allocated from shared 16 MB chunks (a layer's weights are 1 KB to a
/// few MB), so a network's weights share a few huge pages instead of each rounding up to one; larger
/// ones get their own 2 MB-aligned mapping. A chunk is returned to the system when its last block is
/// freed.
enum LargePages {
    static let pageBytes = 2 << 20
    /// Requests from this size up go to the chunks; smaller ones to malloc.
    static let minimumBytes = 4096
    nonisolated(unsafe) static var enabled = ProcessInfo.processInfo.environment["CORRAL_HUGEPAGES"] != "0"

    private final class Chunk {
        let base: UnsafeMutableRawPointer
        let bytes: Int
        var used = 0
        var live = 0
        init(base: UnsafeMutableRawPointer, bytes: Int) { self.base = base; self.bytes = bytes }
        func contains(_ p: UnsafeRawPointer) -> Bool { p >= UnsafeRawPointer(base) && p < UnsafeRawPointer(base + bytes) }
    }

    nonisolated(unsafe) private static var chunks: [Chunk] = []
    /// The chunk small blocks are currently cut from.
    nonisolated(unsafe) private static var shared: Chunk?
    private static let lock = NSLock()

    /// Chunks currently mapped (tests check that they are returned).
    static var chunkCount: Int { lock.lock(); defer { lock.unlock() }; return chunks.count }

    /// `bytes` of zeroed memory aligned to 64 bytes.
    static func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        let bytes = (max(bytes, 1) + 63) & ~63
        guard enabled, bytes >= minimumBytes else {
            let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            p.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
            return p
        }
        lock.lock(); defer { lock.unlock() }
        // Blocks of a megabyte and up (arenas, the largest layers) get a mapping of their own, so freeing
        // one (arenas grow with the batch) returns its memory at once instead of leaving a hole in a
        // chunk that other blocks keep alive.
        let small = bytes < pageBytes / 2
        if small, let chunk = shared, chunk.bytes - chunk.used >= bytes {
            let p = chunk.base + chunk.used
            chunk.used += bytes
            chunk.live += 1
            return p
        }
        // A new chunk: 8 pages shared by small blocks, or exactly what a large block needs.
        let size = small ? 8 * pageBytes : (bytes + pageBytes - 1) / pageBytes * pageBytes
        let chunk = Chunk(base: mapAligned(size), bytes: size)
        chunk.used = bytes
        chunk.live = 1
        chunks.append(chunk)
        if small { shared = chunk }
        return chunk.base
    }

    static func free(_ p: UnsafeMutableRawPointer) {
        // Under the lock only the bookkeeping; the munmap or free after it.
        enum Release { case none, unmap(Chunk), malloc }
        let release: Release = {
            lock.lock(); defer { lock.unlock() }
            guard let i = chunks.firstIndex(where: { $0.contains(p) }) else { return .malloc }
            let chunk = chunks[i]
            chunk.live -= 1
            guard chunk.live == 0 else { return .none }
            chunks.remove(at: i)
            if shared === chunk { shared = nil }
            return .unmap(chunk)
        }()
        switch release {
        case .none: break
        case .unmap(let chunk): unmap(chunk.base, chunk.bytes)
        case .malloc: p.deallocate()
        }
    }

    /// A fresh anonymous mapping of `bytes` (a multiple of 2 MB) starting on a 2 MB boundary, with the
    /// huge-page advice. Fresh anonymous pages read as zero.
    private static func mapAligned(_ bytes: Int) -> UnsafeMutableRawPointer {
        #if os(Linux)
        let raw = mmap(nil, bytes + pageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let raw, raw != MAP_FAILED else { fatalError("out of memory: mmap of \(bytes) bytes failed") }
        let address = Int(bitPattern: raw)
        let aligned = (address + pageBytes - 1) & ~(pageBytes - 1)
        // Give back the unaligned head and tail.
        if aligned > address { munmap(raw, aligned - address) }
        let tail = address + bytes + pageBytes - (aligned + bytes)
        if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + bytes), tail) }
        let base = UnsafeMutableRawPointer(bitPattern: aligned)!
        _ = madvise(base, bytes, Int32(MADV_HUGEPAGE))
        return base
        #else
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 1 << 14)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        return p
        #endif
    }

    private static func unmap(_ base: UnsafeMutableRawPointer, _ bytes: Int) {
        #if os(Linux)
        munmap(base, bytes)
        #else
        base.deallocate()
        #endif
    }
}

/// One growable, 64-byte-aligned scratch buffer per thread, for kernels' short-lived working memory
/// (a depthwise ring of padded rows, a GEMM tile's pointer table), taken from `LargePages` like the
/// weights and arenas.
///
/// Why: `withUnsafeTemporaryAllocation` uses the stack only up to 1 KB on Linux and otherwise calls
/// malloc and free on every use; a depthwise ring is 22-40 KB and is taken once per band of a fused
/// block, which made about 70 heap allocations per Lite0 image. The buffer lives as long as its
/// thread (Dispatch reuses its workers) and only grows. Kernels never nest their use of it; a nested
/// use would overwrite the outer one's data, so it traps instead.
enum ThreadScratch {
    private struct Slot { var base: UnsafeMutableRawPointer?; var bytes: Int; var inUse: Bool }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { raw in
            guard let slot = raw?.assumingMemoryBound(to: Slot.self) else { return }
            slot.pointee.base.map(LargePages.free)
            slot.deallocate()
        }
        precondition(status == 0, "pthread_key_create failed (\(status))")
        return key
    }()

    /// Runs `body` with at least `count` elements of this thread's scratch, 64-byte aligned.
    @inline(__always)
    static func with<T, R>(_: T.Type, count: Int, _ body: (UnsafeMutablePointer<T>) throws -> R) rethrows -> R {
        let slot = current()
        if slot.pointee.inUse { fatalError("ThreadScratch used while already in use on this thread") }   // not precondition: -Ounchecked drops it
        let bytes = max(1, count) * MemoryLayout<T>.stride
        if slot.pointee.bytes < bytes { grow(slot, to: bytes) }
        slot.pointee.inUse = true
        defer { slot.pointee.inUse = false }
        return try body(slot.pointee.base!.bindMemory(to: T.self, capacity: max(1, count)))
    }

    private static func current() -> UnsafeMutablePointer<Slot> {
        if let raw = pthread_getspecific(key) { return raw.assumingMemoryBound(to: Slot.self) }
        let slot = UnsafeMutablePointer<Slot>.allocate(capacity: 1)
        slot.initialize(to: Slot(base: nil, bytes: 0, inUse: false))
        pthread_setspecific(key, slot)
        return slot
    }

    private static func grow(_ slot: UnsafeMutablePointer<Slot>, to bytes: Int) {
        slot.pointee.base.map(LargePages.free)
        let size = (bytes + 4095) / 4096 * 4096
        slot.pointee.base = LargePages.allocate(bytes: size)
        slot.pointee.bytes = size
    }
}
