import Foundation
import CSQLite

/// The only file that touches the SQLite C API: everything else sees `Database`, `Statement` and
/// `SQLiteError`, so C types never leak and every failure carries SQLite's own message.
public struct SQLiteError: Error, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public let context: String
    public var description: String { "\(context): \(message) (sqlite code \(code))" }
}

/// A value bound to or read from a statement column.
public enum SQLValue: Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

public protocol SQLBindable { var sqlValue: SQLValue { get } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .integer(self) } }
extension Double: SQLBindable { public var sqlValue: SQLValue { .real(self) } }
extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Array: SQLBindable where Element == UInt8 { public var sqlValue: SQLValue { .blob(self) } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self.map { $0.sqlValue } ?? .null }
}
extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }

/// One connection. Not thread-safe by itself: the Catalog serialises access with its own lock, which
/// keeps SQLite in its cheapest threading mode and makes transaction boundaries explicit.
public final class Database {
    private var handle: OpaquePointer?
    private var cache: [String: Statement] = [:]
    public let path: String

    /// Opens (creating if needed) with WAL journaling so readers never block the writer and a
    /// `kill -9` loses only the open transaction; synchronous=NORMAL is durable enough in WAL mode
    /// (a power cut may lose the last commits, never corrupts) and far faster than FULL.
    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        if rc != SQLITE_OK {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(db)
            throw SQLiteError(code: rc, message: msg, context: path)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, 5000)
        if !readOnly {
            try execute("PRAGMA journal_mode=WAL")
            try execute("PRAGMA synchronous=NORMAL")
        }
        try execute("PRAGMA foreign_keys=ON")
        // A rescan reads every file's row and analysis (embeddings are ~5 KB each). Through the
        // default 2 MB page cache and pread that was most of an unchanged 20,000-file rescan's
        // time; mapped, SQLite reads pages in place, and 64 MB of cache holds a large library's
        // hot pages. Both are limits, not allocations.
        try execute("PRAGMA mmap_size=\(Database.mmapBytes)")
        try execute("PRAGMA cache_size=-65536")
    }

    /// How much of the database file SQLite may map (address space only).
    static var mmapBytes: Int { Environment.mmapDisabled ? 0 : 1 << 30 }

    deinit { close() }

    public func close() {
        cache.removeAll()   // statements finalise in their deinit, before the connection closes
        if let h = handle { sqlite3_close_v2(h) }
        handle = nil
    }

    var raw: OpaquePointer {
        guard let h = handle else { preconditionFailure("database \(path) used after close") }
        return h
    }

    func error(_ rc: Int32, _ context: String) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(raw)), context: context)
    }

    /// Runs one or more statements without results (schema, pragmas).
    public func execute(_ sql: String) throws {
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(raw, sql, nil, nil, &errmsg)
        if rc != SQLITE_OK {
            let msg = errmsg.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(raw))
            sqlite3_free(errmsg)
            throw SQLiteError(code: rc, message: msg, context: String(sql.prefix(80)))
        }
    }

    /// A prepared statement, compiled once per SQL text and reused (reset + rebound on each use).
    public func prepare(_ sql: String) throws -> Statement {
        if let s = cache[sql] { s.reset(); return s }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(raw, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, String(sql.prefix(80))) }
        let s = Statement(db: self, stmt: stmt, sql: sql)
        cache[sql] = s
        return s
    }

    /// Executes a statement with parameters, returning nothing.
    public func run(_ sql: String, _ params: SQLBindable...) throws {
        let s = try prepare(sql)
        try s.bind(params)
        while try s.step() {}
        s.reset()
    }

    /// Executes a query and maps every row.
    public func query<T>(_ sql: String, _ params: SQLBindable..., row: (Row) throws -> T) throws -> [T] {
        let s = try prepare(sql)
        try s.bind(params)
        defer { s.reset() }
        var out: [T] = []
        while try s.step() { out.append(try row(Row(statement: s))) }
        return out
    }

    /// First column of the first row, if any.
    public func scalar(_ sql: String, _ params: SQLBindable...) throws -> SQLValue? {
        let s = try prepare(sql)
        try s.bind(params)
        defer { s.reset() }
        return try s.step() ? Row(statement: s)[0] : nil
    }

    /// Runs `body` inside BEGIN IMMEDIATE ... COMMIT (rolled back if it throws). IMMEDIATE takes the
    /// write lock up front so two processes never deadlock upgrading read locks.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try inTransaction(begin: "BEGIN IMMEDIATE", body)
    }

    /// Many reads under one shared lock and one snapshot: outside a transaction SQLite takes and
    /// releases its file lock (fcntl) around every statement, which for a 20,000-file rescan was
    /// a visible share of the time.
    public func readTransaction<T>(_ body: () throws -> T) throws -> T {
        try inTransaction(begin: "BEGIN DEFERRED", body)
    }

    private func inTransaction<T>(begin: String, _ body: () throws -> T) throws -> T {
        try execute(begin)
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    public var changes: Int { Int(sqlite3_changes(raw)) }
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(raw) }

    public var userVersion: Int {
        get throws { Int(try scalar("PRAGMA user_version")?.int64 ?? 0) }
    }
    public func setUserVersion(_ v: Int) throws { try execute("PRAGMA user_version = \(v)") }

    /// `PRAGMA integrity_check` rows ("ok" when healthy).
    public func integrityCheck() throws -> [String] {
        try query("PRAGMA integrity_check") { $0.string(0) ?? "" }
    }
}

public final class Statement {
    private unowned let db: Database
    fileprivate let stmt: OpaquePointer
    let sql: String

    fileprivate init(db: Database, stmt: OpaquePointer, sql: String) {
        self.db = db; self.stmt = stmt; self.sql = sql
    }
    deinit { sqlite3_finalize(stmt) }

    func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    func bind(_ params: [SQLBindable]) throws {
        let expected = Int(sqlite3_bind_parameter_count(stmt))
        guard expected == params.count else {
            throw SQLiteError(code: SQLITE_RANGE, message: "expected \(expected) parameters, got \(params.count)",
                              context: String(sql.prefix(80)))
        }
        for (i, p) in params.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch p.sqlValue {
            case .null: rc = sqlite3_bind_null(stmt, idx)
            case .integer(let v): rc = sqlite3_bind_int64(stmt, idx, v)
            case .real(let v): rc = sqlite3_bind_double(stmt, idx, v)
            case .text(let v): rc = sqlite3_bind_text(stmt, idx, v, -1, corral_sqlite_transient())
            case .blob(let v):
                rc = v.withUnsafeBytes { buf in
                    // A zero-length blob still needs a non-null pointer to be a blob rather than NULL.
                    sqlite3_bind_blob(stmt, idx, buf.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buf.count),
                                      corral_sqlite_transient())
                }
            }
            if rc != SQLITE_OK { throw db.error(rc, "bind \(idx) in \(sql.prefix(80))") }
        }
    }

    /// True when a row is available; false when done.
    func step() throws -> Bool {
        let rc = sqlite3_step(stmt)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let e = db.error(rc, String(sql.prefix(80)))
            sqlite3_reset(stmt)
            throw e
        }
    }

    fileprivate func column(_ i: Int) -> SQLValue {
        let idx = Int32(i)
        switch sqlite3_column_type(stmt, idx) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(stmt, idx))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(stmt, idx))
        case SQLITE_TEXT:
            guard let p = sqlite3_column_text(stmt, idx) else { return .text("") }
            return .text(String(cString: p))
        case SQLITE_BLOB:
            let n = Int(sqlite3_column_bytes(stmt, idx))
            guard n > 0, let p = sqlite3_column_blob(stmt, idx) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: p, count: n)))
        default: return .null
        }
    }
}

/// The current row of a query, read by column index.
public struct Row {
    fileprivate let statement: Statement
    public subscript(_ i: Int) -> SQLValue { statement.column(i) }
    public func int(_ i: Int) -> Int? { self[i].int64.map(Int.init) }
    public func int64(_ i: Int) -> Int64? { self[i].int64 }
    public func double(_ i: Int) -> Double? { self[i].double }
    public func string(_ i: Int) -> String? { if case .text(let s) = self[i] { return s }; return nil }
    public func blob(_ i: Int) -> [UInt8]? { if case .blob(let b) = self[i] { return b }; return nil }
}

extension SQLValue {
    public var int64: Int64? {
        switch self { case .integer(let v): return v; case .real(let d): return Int64(d); default: return nil }
    }
    public var double: Double? {
        switch self { case .real(let d): return d; case .integer(let v): return Double(v); default: return nil }
    }
}

/// CORRAL_SQLITE_MMAP=0 turns the mapping off (to compare, or on a file system where mapping
/// misbehaves).
enum Environment {
    static let mmapDisabled = ProcessInfo.processInfo.environment["CORRAL_SQLITE_MMAP"] == "0"
}
