import Foundation

/// Reads a PyTorch checkpoint in either of the formats `torch.save` has written: every tensor becomes
/// a contiguous float32 `WeightTensor` under its state-dict key.
public func loadTorchCheckpoint(path: String) throws -> [String: WeightTensor] {
    try TorchCheckpoint.load(path: path).tensors
}

/// A loaded checkpoint with what was left out, so the importer can say so.
public struct TorchCheckpoint {
    public enum Format: String, Sendable { case legacy, zip }
    public var format: Format
    public var tensors: [String: WeightTensor]
    /// State-dict keys in file order (the order torch saved them).
    public var order: [String]
    /// Integer tensors (BatchNorm's num_batches_tracked) and non-tensor entries, which networks never read.
    public var skipped: [String]

    /// torch's legacy magic number 0x1950a86a20f9469cfc6c as LONG1 bytes (little-endian).
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    public static func load(path: String) throws -> TorchCheckpoint {
        let data = try mapFile(path)
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> TorchCheckpoint in
            if raw.count >= 4, raw[0] == 0x50, raw[1] == 0x4B, raw[2] == 0x03, raw[3] == 0x04 {
                return try loadZip(raw, path: path)
            }
            if raw.count >= 2, raw[0] == 0x80 {
                return try loadLegacy(raw, path: path)
            }
            throw WeightsError(path: path, kind: .unsupported,
                               reason: "not a PyTorch checkpoint (neither the zip format nor the legacy pickle format)")
        }
    }

    // MARK: - Legacy format: magic, protocol, sys_info, state dict, storage keys, raw storages.

    private static func loadLegacy(_ raw: UnsafeRawBufferPointer, path: String) throws -> TorchCheckpoint {
        var roots: [String: (dtype: WeightDType, numel: Int)] = [:]
        var unpickler = Unpickler(bytes: raw, position: 0, persistentLoad: { pid in
            guard case .tuple(let t) = pid, t.items.count == 5 || t.items.count == 6,
                  case .string("storage") = t.items[0],
                  case .global(.storageType(let dtype)) = t.items[1],
                  case .string(let key) = t.items[2],
                  case .int(let numel) = t.items[4], numel >= 0 else {
                throw PickleError(kind: .corrupt, reason: "persistent id is not ('storage', type, key, location, numel[, view])")
            }
            if let known = roots[key], known.dtype != dtype || known.numel != numel {
                throw PickleError(kind: .corrupt, reason: "storage \(key) is described twice, differently")
            }
            roots[key] = (dtype, numel)
            if t.items.count == 6, case .tuple(let view) = t.items[5] {
                // Pre-1.0 views: (view_key, offset, size) in elements of the root storage.
                guard view.items.count == 3, case .int(let offset) = view.items[1], case .int(let size) = view.items[2],
                      offset >= 0, size >= 0, offset <= numel, size <= numel - offset else {
                    throw PickleError(kind: .corrupt, reason: "storage view of \(key) is out of range")
                }
                return .storage(StorageRef(key: key, dtype: dtype, numel: size, viewOffset: offset))
            }
            return .storage(StorageRef(key: key, dtype: dtype, numel: numel))
        })
        defer { unpickler.release() }
        let r = ByteView(bytes: raw, path: path)

        let magic = try wrap(path) { try unpickler.load() }
        guard case .bigInt(let m) = magic, m == legacyMagic else {
            throw r.error(.unsupported, "not a PyTorch checkpoint (legacy magic number missing)")
        }
        let protocolVersion = try wrap(path) { try unpickler.load() }
        guard case .int(1001) = protocolVersion else {
            throw r.error(.unsupported, "legacy checkpoint protocol \(protocolVersion) (only 1001 is known)")
        }
        if case .dict(let info) = try wrap(path, { try unpickler.load() }) {
            for (k, v) in info.entries {
                if case .string("little_endian") = k, case .bool(false) = v {
                    throw r.error(.unsupported, "big-endian checkpoint")
                }
            }
        } else {
            throw r.error(.corrupt, "legacy checkpoint header has no sys_info dictionary")
        }
        let root = try wrap(path) { try unpickler.load() }
        let keysValue = try wrap(path) { try unpickler.load() }
        guard case .list(let keyList) = keysValue else { throw r.error(.corrupt, "storage key list missing after the state dict") }

        // Raw storages follow, in key-list order: an 8-byte element count, then the elements.
        var located: [String: Int] = [:]
        var p = unpickler.position
        for item in keyList.items {
            guard case .string(let key) = item, let info = roots[key] else {
                throw r.error(.corrupt, "storage key list names a storage no tensor uses")
            }
            let count = try r.u64(p)
            guard count == info.numel else {
                throw r.error(.corrupt, "storage \(key) holds \(count) elements, the state dict says \(info.numel)")
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: info.dtype.byteSize)
            guard !overflow, p + 8 <= raw.count, bytes <= raw.count - (p + 8) else {
                throw r.error(.truncated, "file ends inside storage \(key) (\(count) elements at offset \(p + 8)); the download is incomplete")
            }
            located[key] = p + 8
            p += 8 + bytes
        }
        return try assemble(root, format: .legacy, raw: raw, path: path) { ref in
            guard let offset = located[ref.key], let info = roots[ref.key] else {
                throw r.error(.corrupt, "storage \(ref.key) is used but not stored")
            }
            return (offset, info.numel)
        }
    }

    // MARK: - Zip format: <name>/data.pkl and <name>/data/<key>.

    private static func loadZip(_ raw: UnsafeRawBufferPointer, path: String) throws -> TorchCheckpoint {
        let zip = try ZipArchive(bytes: raw, path: path)
        let r = ByteView(bytes: raw, path: path)
        let pickles = zip.order.filter { $0.hasSuffix("/data.pkl") && $0.dropLast("/data.pkl".count).firstIndex(of: "/") == nil }
        guard pickles.count == 1, let pkl = zip.entries[pickles[0]] else {
            throw r.error(.unsupported, pickles.isEmpty ? "zip file without a <name>/data.pkl member: not a torch checkpoint"
                                                        : "zip file with \(pickles.count) data.pkl members")
        }
        let prefix = String(pkl.name.dropLast("data.pkl".count))
        func member(_ e: ZipArchive.Entry) throws -> UnsafeRawBufferPointer {
            let b = UnsafeRawBufferPointer(rebasing: raw[e.dataOffset..<(e.dataOffset + e.size)])
            guard CRC32.checksum(b) == e.crc32 else { throw r.error(.corrupt, "zip member \(e.name) fails its CRC-32 check") }
            return b
        }
        if let order = zip.entries[prefix + "byteorder"] {
            let text = String(decoding: try member(order), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard text == "little" else { throw r.error(.unsupported, "checkpoint byte order is \(text)") }
        }
        var storages: [String: StorageRef] = [:]
        let pklBytes = try member(pkl)
        var unpickler = Unpickler(bytes: pklBytes, position: 0, persistentLoad: { pid in
            guard case .tuple(let t) = pid, t.items.count == 5,
                  case .string("storage") = t.items[0],
                  case .global(.storageType(let dtype)) = t.items[1],
                  case .string(let key) = t.items[2],
                  case .int(let numel) = t.items[4], numel >= 0 else {
                throw PickleError(kind: .corrupt, reason: "persistent id is not ('storage', type, key, location, numel)")
            }
            if let known = storages[key], known.dtype != dtype || known.numel != numel {
                throw PickleError(kind: .corrupt, reason: "storage \(key) is described twice, differently")
            }
            let ref = StorageRef(key: key, dtype: dtype, numel: numel)
            storages[key] = ref
            return .storage(ref)
        })
        defer { unpickler.release() }
        let root = try wrap(path) { try unpickler.load() }
        var verified: [String: Int] = [:]
        return try assemble(root, format: .zip, raw: raw, path: path) { ref in
            if let offset = verified[ref.key] { return (offset, ref.numel) }
            guard let e = zip.entries[prefix + "data/" + ref.key] else {
                throw r.error(.corrupt, "zip member \(prefix)data/\(ref.key) is missing")
            }
            let (bytes, overflow) = ref.numel.multipliedReportingOverflow(by: ref.dtype.byteSize)
            guard !overflow, e.size >= bytes else {
                throw r.error(.truncated, "zip member \(e.name) has \(e.size) bytes, storage needs \(ref.numel) x \(ref.dtype.byteSize)")
            }
            _ = try member(e)
            verified[ref.key] = e.dataOffset
            return (e.dataOffset, ref.numel)
        }
    }

    // MARK: - Shared: walk the state dict, check every view against its storage, copy to Float.

    /// `locate` gives a storage's byte offset in the file and its element count (root storage).
    private static func assemble(_ root: PickleValue, format: Format, raw: UnsafeRawBufferPointer, path: String,
                                 locate: (StorageRef) throws -> (offset: Int, numel: Int)) throws -> TorchCheckpoint {
        let r = ByteView(bytes: raw, path: path)
        guard case .dict(var dict) = root else {
            throw r.error(.unsupported, "checkpoint holds a \(root.kindName), not a state dict")
        }
        // Training checkpoints wrap the weights: {"state_dict": {...}, "epoch": 3, ...}.
        let hasTensors = dict.entries.contains { if case .tensor = $0.value { return true } else { return false } }
        if !hasTensors {
            for (k, v) in dict.entries {
                if case .string(let name) = k, ["state_dict", "model", "model_state_dict"].contains(name), case .dict(let inner) = v {
                    dict = inner
                    break
                }
            }
        }
        var result = TorchCheckpoint(format: format, tensors: [:], order: [], skipped: [])
        for (k, v) in dict.entries {
            guard case .string(let name) = k else { throw r.error(.corrupt, "state dict key is a \(k.kindName), not a string") }
            guard case .tensor(let t) = v else { result.skipped.append(name); continue }
            guard t.storage.dtype.isFloatingPoint else { result.skipped.append(name); continue }
            guard result.tensors[name] == nil else { throw r.error(.corrupt, "key \(name) appears twice") }
            let (offset, rootNumel) = try locate(t.storage)
            let storageNumel = t.storage.numel
            guard t.storage.viewOffset + storageNumel <= rootNumel else {
                throw r.error(.corrupt, "tensor \(name): storage view past the end of its storage")
            }
            // Highest element the view touches must lie inside the storage.
            var count = 1, last = t.offset
            var overflow = false
            for (size, stride) in zip(t.shape, t.strides) {
                let c = count.multipliedReportingOverflow(by: size)
                count = c.partialValue; overflow = overflow || c.overflow
                if size > 0 {
                    let s = (size - 1).multipliedReportingOverflow(by: stride)
                    let a = last.addingReportingOverflow(s.partialValue)
                    last = a.partialValue; overflow = overflow || s.overflow || a.overflow
                }
            }
            guard !overflow else { throw r.error(.corrupt, "tensor \(name): shape \(t.shape) overflows") }
            if count > 0 && last >= storageNumel {
                throw r.error(.corrupt, "tensor \(name): view (offset \(t.offset), shape \(t.shape), stride \(t.strides)) reaches element \(last) of a \(storageNumel)-element storage")
            }
            guard count <= storageNumel + (1 << 24) else {
                throw r.error(.corrupt, "tensor \(name): \(count) elements from a \(storageNumel)-element storage")
            }
            let base = raw.baseAddress! + offset + t.storage.viewOffset * t.storage.dtype.byteSize
            let data = count == 0 ? [] : gatherStrided(base: base, dtype: t.storage.dtype, offset: t.offset,
                                                        shape: t.shape, strides: t.strides)
            result.tensors[name] = WeightTensor(shape: t.shape, data: data)
            result.order.append(name)
        }
        // DataParallel checkpoints prefix every key with "module."; networks use the bare names.
        if !result.order.isEmpty && result.order.allSatisfy({ $0.hasPrefix("module.") }) {
            result.order = result.order.map { String($0.dropFirst(7)) }
            result.tensors = Dictionary(uniqueKeysWithValues: result.tensors.map { (String($0.key.dropFirst(7)), $0.value) })
        }
        guard !result.tensors.isEmpty else { throw r.error(.unsupported, "checkpoint holds no floating-point tensors") }
        return result
    }

    private static func wrap<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as PickleError {
            throw WeightsError(path: path, kind: e.kind, reason: e.reason)
        }
    }
}

/// Maps a file read-only (pages come in on demand; a 300 MB checkpoint is not copied up front).
func mapFile(_ path: String) throws -> Data {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw WeightsError(path: path, kind: .unreadable, reason: "no such file")
    }
    guard !isDirectory.boolValue else { throw WeightsError(path: path, kind: .unreadable, reason: "is a folder, not a weights file") }
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    } catch {
        throw WeightsError(path: path, kind: .unreadable, reason: "cannot read: \((error as NSError).localizedDescription)")
    }
}
