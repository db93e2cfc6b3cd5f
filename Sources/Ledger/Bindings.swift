import GRDB
import GRDBSQLite

/// Binds values straight onto a prepared statement through the SQLite C API, for the statements written once
/// per settlement or checkpoint. GRDB's `StatementArguments` box every value; on these paths the boxing cost
/// more than SQLite itself. `execute()` steps the statement itself (inside GRDB's transaction), because GRDB's
/// `execute()` would re-validate arguments it did not bind.
struct Bindings {
    private let statement: SQLiteStatement
    private var index: Int32 = 0
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ statement: Statement) {
        self.statement = statement.sqliteStatement
    }

    mutating func bind(_ value: Int64) {
        index += 1
        sqlite3_bind_int64(statement, index, value)
    }

    mutating func bind(_ value: Int) { bind(Int64(value)) }

    mutating func bind(_ value: Bool) { bind(Int64(value ? 1 : 0)) }

    mutating func bind(_ value: Int64?) {
        guard let value else { return bindNull() }
        bind(value)
    }

    mutating func bind(_ value: Int?) { bind(value.map(Int64.init)) }

    mutating func bind(_ value: String) {
        index += 1
        sqlite3_bind_text(statement, index, value, -1, Self.transient)
    }

    mutating func bind(_ value: String?) {
        guard let value else { return bindNull() }
        bind(value)
    }

    /// Runs the statement to completion and resets it for the next use.
    func execute() throws {
        let code = sqlite3_step(statement)
        if code != SQLITE_DONE {
            let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(statement)))
            sqlite3_reset(statement)
            throw LedgerError.sqlite(code: code, message: message)
        }
        sqlite3_reset(statement)
    }

    private mutating func bindNull() {
        index += 1
        sqlite3_bind_null(statement, index)
    }
}
