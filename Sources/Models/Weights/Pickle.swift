import Foundation

/// A restricted unpickler: just enough of the pickle machine (protocols 2-5) to read the state dicts
/// that `torch.save` writes, and nothing that could run code. Python's pickle executes whatever
/// global a file names; here a global is only a name, looked up in a fixed allow-list of tensor
/// rebuild functions and storage types, and refused (with its name) otherwise. Nothing is ever called.
///
/// Containers are reference objects kept in an arena and emptied when the unpickler is done, so a
/// crafted file with deeply nested or cyclic containers cannot overflow the stack on deallocation.

/// What a pickled global resolves to. Anything not listed is refused.
enum PickleGlobal: Equatable {
    case orderedDict
    case rebuildTensorV2, rebuildTensor, rebuildParameter
    case storageType(WeightDType)
    case dtype(WeightDType)

    static func resolve(module: String, name: String) -> PickleGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor"): return .rebuildTensor
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"): return .rebuildParameter
        default: break
        }
        guard module == "torch" else { return nil }
        let storages: [String: WeightDType] = [
            "FloatStorage": .float32, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
            "DoubleStorage": .float64, "LongStorage": .int64, "IntStorage": .int32,
            "ShortStorage": .int16, "CharStorage": .int8, "ByteStorage": .uint8, "BoolStorage": .bool,
        ]
        if let d = storages[name] { return .storageType(d) }
        let dtypes: [String: WeightDType] = [
            "float32": .float32, "float": .float32, "float16": .float16, "half": .float16,
            "bfloat16": .bfloat16, "float64": .float64, "double": .float64, "int64": .int64,
            "long": .int64, "int32": .int32, "int": .int32, "int16": .int16, "int8": .int8,
            "uint8": .uint8, "bool": .bool,
        ]
        if let d = dtypes[name] { return .dtype(d) }
        return nil
    }
}

/// A storage reference from a persistent id: which raw buffer, its element type, and (legacy views)
/// the window of the root storage it covers, in elements.
struct StorageRef: Equatable {
    var key: String
    var dtype: WeightDType
    var numel: Int
    var viewOffset: Int = 0
}

/// A tensor as torch describes it: a strided view of a storage. Materialised later, once storages
/// are located.
struct TensorRef {
    var storage: StorageRef
    var offset: Int
    var shape: [Int]
    var strides: [Int]
}

final class PickleList { var items: [PickleValue] = [] }
final class PickleDict { var entries: [(key: PickleValue, value: PickleValue)] = [] }
final class PickleTuple { var items: [PickleValue]; init(_ items: [PickleValue]) { self.items = items } }

enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer wider than 64 bits, kept as little-endian two's complement bytes (torch's magic number).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PickleTuple)
    case list(PickleList)
    case dict(PickleDict)
    case global(PickleGlobal)
    case storage(StorageRef)
    case tensor(TensorRef)

    var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global: return "global"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// Why a pickle was refused; the checkpoint loader adds the file path.
struct PickleError: Error {
    var kind: WeightsError.Kind
    var reason: String
}

/// Turns a persistent id tuple into a storage reference (the checkpoint format decides how).
typealias PersistentLoader = (PickleValue) throws -> PickleValue

struct Unpickler {
    private let bytes: UnsafeRawBufferPointer
    private(set) var position: Int
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private var arenaLists: [PickleList] = []
    private var arenaDicts: [PickleDict] = []
    private var arenaTuples: [PickleTuple] = []
    private let persistentLoad: PersistentLoader?

    /// Upper bounds that no real state dict approaches; they keep a hostile file from using
    /// unbounded memory through the memo or the stack.
    private static let maxMemo = 10_000_000
    private static let maxStack = 1_000_000

    init(bytes: UnsafeRawBufferPointer, position: Int, persistentLoad: PersistentLoader?) {
        self.bytes = bytes
        self.position = position
        self.persistentLoad = persistentLoad
    }

    /// Reads one pickle (up to and including STOP) and returns its value. Containers stay valid
    /// until `release()`.
    mutating func load() throws -> PickleValue {
        stack.removeAll(keepingCapacity: true)
        marks.removeAll()
        memo.removeAll()
        while true {
            let opOffset = position
            let op = try byte()
            switch op {
            case 0x80: // PROTO
                let version = try byte()
                guard version >= 2 && version <= 5 else {
                    throw PickleError(kind: .unsupported, reason: "pickle protocol \(version) is not supported (2-5 are)")
                }
            case 0x95: // FRAME: an 8-byte length we do not need, frames are contiguous in the stream.
                _ = try uint(8)
            case 0x2E: // STOP
                guard let top = stack.popLast(), stack.isEmpty, marks.isEmpty else {
                    throw corrupt("pickle stack is not a single value at STOP", opOffset)
                }
                return top
            case 0x7D: push(.dict(newDict())) // EMPTY_DICT
            case 0x5D: push(.list(newList())) // EMPTY_LIST
            case 0x29: push(.tuple(newTuple([]))) // EMPTY_TUPLE
            case 0x28: // MARK
                marks.append(stack.count)
            case 0x58: // BINUNICODE
                let n = try uint(4)
                push(.string(try utf8(n, opOffset)))
            case 0x8C: // SHORT_BINUNICODE
                let n = try uint(1)
                push(.string(try utf8(n, opOffset)))
            case 0x8D: // BINUNICODE8
                let n = try uint(8)
                push(.string(try utf8(n, opOffset)))
            case 0x55: // SHORT_BINSTRING (protocol 2 byte strings from Python 2)
                let n = try uint(1)
                push(.string(try utf8(n, opOffset)))
            case 0x54: // BINSTRING
                let n = try uint(4)
                push(.string(try utf8(n, opOffset)))
            case 0x43: // SHORT_BINBYTES
                let n = try uint(1)
                push(.bytes(try take(n)))
            case 0x42: // BINBYTES
                let n = try uint(4)
                push(.bytes(try take(n)))
            case 0x4A: // BININT: signed 32-bit
                let v = try uint(4)
                push(.int(Int(Int32(truncatingIfNeeded: v))))
            case 0x4B: push(.int(try uint(1))) // BININT1
            case 0x4D: push(.int(try uint(2))) // BININT2
            case 0x8A: // LONG1
                let n = try uint(1)
                push(long(try take(n)))
            case 0x8B: // LONG4
                let n = try uint(4)
                guard n <= 64 else { throw PickleError(kind: .unsupported, reason: "integer of \(n) bytes in pickle at offset \(opOffset)") }
                push(long(try take(n)))
            case 0x47: // BINFLOAT: big-endian double
                let b = try take(8)
                var bits: UInt64 = 0
                for x in b { bits = bits << 8 | UInt64(x) }
                push(.float(Double(bitPattern: bits)))
            case 0x88: push(.bool(true)) // NEWTRUE
            case 0x89: push(.bool(false)) // NEWFALSE
            case 0x4E: push(.none) // NONE
            case 0x74: // TUPLE
                let items = try popMark(opOffset)
                push(.tuple(newTuple(items)))
            case 0x85, 0x86, 0x87: // TUPLE1..3
                let n = Int(op - 0x84)
                guard stack.count - (marks.last ?? 0) >= n else { throw corrupt("TUPLE\(n) on a short stack", opOffset) }
                let items = Array(stack.suffix(n))
                stack.removeLast(n)
                push(.tuple(newTuple(items)))
            case 0x6C: // LIST
                let items = try popMark(opOffset)
                let l = newList()
                l.items = items
                push(.list(l))
            case 0x64: // DICT
                let items = try popMark(opOffset)
                let d = newDict()
                try fill(d, items, opOffset)
                push(.dict(d))
            case 0x71: try put(try uint(1), opOffset) // BINPUT
            case 0x72: try put(try uint(4), opOffset) // LONG_BINPUT
            case 0x94: try put(memo.count, opOffset) // MEMOIZE
            case 0x68: try get(try uint(1), opOffset) // BINGET
            case 0x6A: try get(try uint(4), opOffset) // LONG_BINGET
            case 0x30: // POP
                guard stack.count > (marks.last ?? 0) else { throw corrupt("POP on an empty stack", opOffset) }
                stack.removeLast()
            case 0x31: // POP_MARK
                _ = try popMark(opOffset)
            case 0x32: // DUP
                guard let top = stack.last else { throw corrupt("DUP on an empty stack", opOffset) }
                push(top)
            case 0x73: // SETITEM
                let value = try pop(opOffset), key = try pop(opOffset)
                guard case .dict(let d) = try peek(opOffset) else { throw corrupt("SETITEM on a non-dict", opOffset) }
                d.entries.append((key, value))
            case 0x75: // SETITEMS
                let items = try popMark(opOffset)
                guard case .dict(let d) = try peek(opOffset) else { throw corrupt("SETITEMS on a non-dict", opOffset) }
                try fill(d, items, opOffset)
            case 0x61: // APPEND
                let value = try pop(opOffset)
                guard case .list(let l) = try peek(opOffset) else { throw corrupt("APPEND on a non-list", opOffset) }
                l.items.append(value)
            case 0x65: // APPENDS
                let items = try popMark(opOffset)
                guard case .list(let l) = try peek(opOffset) else { throw corrupt("APPENDS on a non-list", opOffset) }
                l.items.append(contentsOf: items)
            case 0x63: // GLOBAL: "module\nname\n"
                let module = try line(opOffset), name = try line(opOffset)
                push(.global(try allow(module, name)))
            case 0x93: // STACK_GLOBAL
                let nameValue = try pop(opOffset), moduleValue = try pop(opOffset)
                guard case .string(let name) = nameValue, case .string(let module) = moduleValue else {
                    throw corrupt("STACK_GLOBAL needs two strings", opOffset)
                }
                push(.global(try allow(module, name)))
            case 0x52: // REDUCE
                let args = try pop(opOffset), callable = try pop(opOffset)
                push(try reduce(callable, args, opOffset))
            case 0x62: // BUILD: only dict state on an OrderedDict (torch's `_metadata`), which we drop.
                let state = try pop(opOffset)
                let target = try peek(opOffset)
                switch (target, state) {
                case (.dict, .dict), (.dict, .none), (.tensor, _):
                    break
                default:
                    throw PickleError(kind: .unsafe, reason: "pickle BUILD on a \(target.kindName) is not allowed (offset \(opOffset))")
                }
            case 0x51: // BINPERSID
                let pid = try pop(opOffset)
                guard let persistentLoad else { throw corrupt("persistent id in a pickle that should have none", opOffset) }
                push(try persistentLoad(pid))
            default:
                throw PickleError(kind: .unsupported, reason: String(format: "pickle opcode 0x%02x at offset %d is not allowed in a state dict", op, opOffset))
            }
            if stack.count > Unpickler.maxStack { throw corrupt("pickle stack too deep", opOffset) }
        }
    }

    /// Empties every container so that their deallocation is flat (see the type's comment).
    mutating func release() {
        for l in arenaLists { l.items.removeAll() }
        for d in arenaDicts { d.entries.removeAll() }
        for t in arenaTuples { t.items.removeAll() }
        arenaLists.removeAll(); arenaDicts.removeAll(); arenaTuples.removeAll()
        stack.removeAll(); memo.removeAll()
    }

    // MARK: - Reduce: the only "calls", each a pure constructor on plain values.

    private mutating func reduce(_ callable: PickleValue, _ args: PickleValue, _ at: Int) throws -> PickleValue {
        guard case .global(let g) = callable else { throw corrupt("REDUCE on a \(callable.kindName), not a global", at) }
        guard case .tuple(let t) = args else { throw corrupt("REDUCE arguments are not a tuple", at) }
        let a = t.items
        switch g {
        case .orderedDict:
            let d = newDict()
            if a.count == 1, case .list(let pairs) = a[0] {
                for p in pairs.items {
                    guard case .tuple(let kv) = p, kv.items.count == 2 else { throw corrupt("OrderedDict items are not pairs", at) }
                    d.entries.append((kv.items[0], kv.items[1]))
                }
            } else if !a.isEmpty {
                throw corrupt("OrderedDict with unexpected arguments", at)
            }
            return .dict(d)
        case .rebuildTensorV2, .rebuildTensor:
            // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
            guard a.count >= 4, a.count <= 7 else { throw corrupt("tensor rebuild with \(a.count) arguments", at) }
            guard case .storage(let s) = a[0] else { throw corrupt("tensor rebuild without a storage", at) }
            guard case .int(let offset) = a[1], offset >= 0 else { throw corrupt("bad tensor storage offset", at) }
            let shape = try intTuple(a[2], "size", at), strides = try intTuple(a[3], "stride", at)
            guard shape.count == strides.count else { throw corrupt("tensor size and stride differ in length", at) }
            return .tensor(TensorRef(storage: s, offset: offset, shape: shape, strides: strides))
        case .rebuildParameter:
            // (data, requires_grad, backward_hooks[, state])
            guard a.count == 3 || a.count == 4, case .tensor = a[0] else { throw corrupt("parameter rebuild without a tensor", at) }
            return a[0]
        case .storageType, .dtype:
            throw PickleError(kind: .unsafe, reason: "pickle calls a storage type or dtype (offset \(at)); only tensor rebuilds are allowed")
        }
    }

    private func intTuple(_ v: PickleValue, _ what: String, _ at: Int) throws -> [Int] {
        guard case .tuple(let t) = v else { throw corrupt("tensor \(what) is not a tuple", at) }
        return try t.items.map {
            guard case .int(let i) = $0, i >= 0 else { throw corrupt("tensor \(what) has a non-integer or negative entry", at) }
            return i
        }
    }

    private func allow(_ module: String, _ name: String) throws -> PickleGlobal {
        guard let g = PickleGlobal.resolve(module: module, name: name) else {
            var reason = "refused pickle global \(module).\(name): only tensor rebuild functions, storage types and collections.OrderedDict are allowed"
            if ["torchvision", "torch.nn", "timm", "__main__", "efficientnet"].contains(where: { module.hasPrefix($0) }) {
                reason += " (the file pickles a whole model object; re-save just the weights with torch.save(model.state_dict(), path))"
            }
            throw PickleError(kind: .unsafe, reason: reason)
        }
        return g
    }

    // MARK: - Stack, memo and byte helpers.

    private mutating func push(_ v: PickleValue) { stack.append(v) }

    private mutating func pop(_ at: Int) throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let v = stack.popLast() else { throw corrupt("pickle stack underflow", at) }
        return v
    }

    private func peek(_ at: Int) throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let v = stack.last else { throw corrupt("pickle stack underflow", at) }
        return v
    }

    private mutating func popMark(_ at: Int) throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw corrupt("pickle MARK missing", at) }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    private func fill(_ d: PickleDict, _ items: [PickleValue], _ at: Int) throws {
        guard items.count % 2 == 0 else { throw corrupt("odd number of dict items", at) }
        var i = 0
        while i < items.count { d.entries.append((items[i], items[i + 1])); i += 2 }
    }

    private mutating func put(_ index: Int, _ at: Int) throws {
        guard let top = stack.last, stack.count > (marks.last ?? 0) else { throw corrupt("memo put on an empty stack", at) }
        guard memo.count < Unpickler.maxMemo else { throw corrupt("pickle memo too large", at) }
        memo[index] = top
    }

    private mutating func get(_ index: Int, _ at: Int) throws {
        guard let v = memo[index] else { throw corrupt("memo get of missing entry \(index)", at) }
        push(v)
    }

    private mutating func newList() -> PickleList { let l = PickleList(); arenaLists.append(l); return l }
    private mutating func newDict() -> PickleDict { let d = PickleDict(); arenaDicts.append(d); return d }
    private mutating func newTuple(_ items: [PickleValue]) -> PickleTuple {
        let t = PickleTuple(items); arenaTuples.append(t); return t
    }

    private mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw PickleError(kind: .truncated, reason: "pickle ends at offset \(position) without STOP") }
        defer { position += 1 }
        return bytes[position]
    }

    /// An unsigned little-endian integer of `n` bytes (n <= 8), as Int; rejects values past Int.max.
    private mutating func uint(_ n: Int) throws -> Int {
        let b = try take(n)
        var v: UInt64 = 0
        for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
        guard v <= UInt64(Int.max) else { throw corrupt("length field out of range", position - n) }
        return Int(v)
    }

    private mutating func take(_ n: Int) throws -> [UInt8] {
        guard n >= 0, n <= bytes.count - position else {
            throw PickleError(kind: .truncated, reason: "pickle ends inside a \(n)-byte field at offset \(position)")
        }
        defer { position += n }
        return Array(bytes[position..<(position + n)])
    }

    private mutating func utf8(_ n: Int, _ at: Int) throws -> String {
        let b = try take(n)
        guard let s = String(bytes: b, encoding: .utf8) else {
            throw corrupt("string is not valid UTF-8", at)
        }
        return s
    }

    private mutating func line(_ at: Int) throws -> String {
        var b: [UInt8] = []
        while true {
            let c = try byte()
            if c == 0x0A { break }
            b.append(c)
            guard b.count <= 256 else { throw corrupt("global name too long", at) }
        }
        guard let s = String(bytes: b, encoding: .utf8) else { throw corrupt("global name is not UTF-8", at) }
        return s
    }

    private func long(_ b: [UInt8]) -> PickleValue {
        if b.isEmpty { return .int(0) }
        if b.count <= 8 {
            var v: UInt64 = 0
            for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
            // Sign-extend from the top byte.
            if b.count < 8 && b.last! & 0x80 != 0 { v |= ~0 << (8 * UInt64(b.count)) }
            return .int(Int(Int64(bitPattern: v)))
        }
        return .bigInt(b)
    }

    private func corrupt(_ reason: String, _ at: Int) -> PickleError {
        PickleError(kind: .corrupt, reason: "\(reason) (pickle offset \(at))")
    }
}
