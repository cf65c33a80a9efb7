import GRDBSQLite
import WardenCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension SQLiteClassifier {
  /// A private in-memory database for one classification: the schema to prepare statements
  /// against, and the stubs added for names it lacks. Confined to the calling thread.
  final class Connection {
    let handle: OpaquePointer
    /// Stub tables by schema and lowercased name, with their lowercased columns, in creation order.
    private var stubTables: [(schema: String, name: String, columns: [String])] = []
    private var attached: Set<String> = ["main", "temp"]
    private var stubCount = 0
    private var tried: Set<String> = []
    /// Tables (as reported) whose definition replaces rows on conflict.
    var replacingTables: Set<String> = []

    init(schema: String?) throws(SQLClassificationError) {
      var handle: OpaquePointer?
      let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MEMORY | SQLITE_OPEN_NOMUTEX
      let code = sqlite3_open_v2(":memory:", &handle, flags, nil)
      guard code == SQLITE_OK, let handle else {
        sqlite3_close_v2(handle)
        throw SQLClassificationError("cannot open an in-memory sqlite database")
      }
      self.handle = handle
      if let schema { try copySchema(from: schema) }
    }

    deinit { sqlite3_close_v2(handle) }

    // MARK: - Preparing with the authorizer

    final class Recorder {
      var events: [Event] = []
    }

    /// Prepares the statement at `offset` with the authorizer recording, then removes it. Returns
    /// the statement (nil when only whitespace or comments were left), the offset of its tail and the
    /// events recorded.
    func prepare(_ bytes: [UInt8], from offset: Int) throws(SQLClassificationError) -> (
      statement: OpaquePointer?, tail: Int, events: [Event]
    ) {
      let recorder = Recorder()
      let context = Unmanaged.passUnretained(recorder).toOpaque()
      sqlite3_set_authorizer(
        handle,
        { context, code, first, second, database, _ in
          guard let context else { return SQLITE_OK }
          let recorder = Unmanaged<Recorder>.fromOpaque(context).takeUnretainedValue()
          recorder.events.append(
            Event(
              code: code, first: first.map { String(cString: $0) },
              second: second.map { String(cString: $0) },
              database: database.map { String(cString: $0) }))
          return SQLITE_OK
        }, context)
      defer { sqlite3_set_authorizer(handle, nil, nil) }
      var statement: OpaquePointer?
      var tailOffset = offset
      let code = bytes.withUnsafeBufferPointer { buffer -> Int32 in
        let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
        var tail: UnsafePointer<CChar>?
        let code = sqlite3_prepare_v2(handle, base + offset, Int32(buffer.count - offset), &statement, &tail)
        if let tail { tailOffset = tail - base }
        return code
      }
      withExtendedLifetime(recorder) {}
      guard code == SQLITE_OK else {
        sqlite3_finalize(statement)
        throw SQLClassificationError(errorMessage)
      }
      return (statement, tailOffset, recorder.events)
    }

    var errorMessage: String {
      sqlite3_errmsg(handle).map { String(cString: $0) } ?? "unknown sqlite error"
    }

    // MARK: - The schema of a database file

    /// Recreates the schema of the database at `path`, read through a read-only connection that
    /// never creates the file.
    private func copySchema(from path: String) throws(SQLClassificationError) {
      var status = stat()
      guard stat(path, &status) == 0 else { throw SQLClassificationError("no database file at '\(path)'") }
      guard (status.st_mode & S_IFMT) == S_IFREG else {
        throw SQLClassificationError("'\(path)' is not a database file")
      }
      var source: OpaquePointer?
      let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX
      defer { sqlite3_close_v2(source) }
      guard
        sqlite3_open_v2(Self.readOnlyURI(path, immutable: Self.isIdleWAL(path)), &source, flags, nil)
          == SQLITE_OK,
        let source
      else {
        throw SQLClassificationError("cannot open '\(path)' read-only")
      }
      sqlite3_busy_timeout(source, 2000)
      let query = """
        SELECT sql, type, tbl_name FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
        ORDER BY rowid
        """
      var statement: OpaquePointer?
      defer { sqlite3_finalize(statement) }
      guard sqlite3_prepare_v2(source, query, -1, &statement, nil) == SQLITE_OK else {
        let message = sqlite3_errmsg(source).map { String(cString: $0) } ?? "unknown error"
        throw SQLClassificationError("cannot read the schema of '\(path)': \(message)")
      }
      var definitions: [String] = []
      while true {
        let code = sqlite3_step(statement)
        if code == SQLITE_DONE { break }
        guard code == SQLITE_ROW else {
          let message = sqlite3_errmsg(source).map { String(cString: $0) } ?? "unknown error"
          throw SQLClassificationError("cannot read the schema of '\(path)': \(message)")
        }
        guard let text = sqlite3_column_text(statement, 0) else { continue }
        let definition = String(cString: text)
        definitions.append(definition)
        if let type = sqlite3_column_text(statement, 1), String(cString: type) == "table",
          let table = sqlite3_column_text(statement, 2), SQLiteTokens(definition.utf8).replacesRows
        {
          replacingTables.insert(asciiLowercased(String(cString: table)))
        }
      }
      for definition in definitions {
        guard sqlite3_exec(handle, definition, nil, nil, nil) == SQLITE_OK else {
          throw SQLClassificationError("cannot read the schema of '\(path)': \(errorMessage)")
        }
      }
    }

    /// Whether the file is a database in WAL mode that no connection has open (no `-shm` file). A
    /// read-only connection would create `-wal` and `-shm` files next to it, and could not remove
    /// them; opened `immutable`, it creates nothing, and with no other connection there is no change
    /// it could miss.
    static func isIdleWAL(_ path: String) -> Bool {
      guard let file = fopen(path, "rb") else { return false }
      defer { fclose(file) }
      var header = [UInt8](repeating: 0, count: 20)
      guard fread(&header, 1, header.count, file) == header.count, header[18] == 2 else { return false }
      var status = stat()
      return stat(path + "-shm", &status) != 0
    }

    /// `file:` URI with `mode=ro` (and `immutable=1` if asked): characters with a meaning in URIs
    /// percent-encoded.
    static func readOnlyURI(_ path: String, immutable: Bool = false) -> String {
      var bytes = Array(path.utf8)
      while bytes.count > 1 && bytes[0] == 0x2F && bytes[1] == 0x2F { bytes.removeFirst() }
      var uri = "file:"
      let hex = Array("0123456789ABCDEF".utf8)
      for byte in bytes {
        let safe =
          (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
          || [0x2F, 0x2E, 0x5F, 0x2D, 0x7E].contains(byte)
        if safe {
          uri.unicodeScalars.append(Unicode.Scalar(byte))
        } else {
          uri += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
        }
      }
      return uri + (immutable ? "?mode=ro&immutable=1" : "?mode=ro")
    }

    // MARK: - Stubs for names the schema lacks

    /// Adds what the error `message` says is missing; false when it is not a missing name, or one a
    /// stub cannot supply (the caller then throws the error).
    func addStub(for message: String, statementText: ArraySlice<UInt8>) throws(SQLClassificationError) -> Bool
    {
      guard tried.insert(message).inserted || message.hasPrefix("no such column: ") else {
        return try retryOtherwise(message)
      }
      if let name = message.removingPrefix("no such table: ") {
        let (schema, table) = split(name)
        return exec(
          "CREATE TABLE \(qualified(schema, table))(\(quote(stubColumn)))", creating: (schema, table))
      }
      if let name = message.removingPrefix("no such view: ") {
        let (schema, view) = split(name)
        return attach(schema) && exec("CREATE VIEW \(qualified(schema, view)) AS SELECT 1")
      }
      if let name = message.removingPrefix("no such index: ") {
        let (schema, index) = split(name)
        let table = stubName()
        return exec(
          "CREATE TABLE \(qualified(schema, table))(\(quote(stubColumn)))", creating: (schema, table))
          && exec("CREATE INDEX \(qualified(schema, index)) ON \(quote(table))(\(quote(stubColumn)))")
      }
      if let name = message.removingPrefix("no such trigger: ") {
        let (schema, trigger) = split(name)
        let table = stubName()
        return exec(
          "CREATE TABLE \(qualified(schema, table))(\(quote(stubColumn)))", creating: (schema, table))
          && exec(
            "CREATE TRIGGER \(qualified(schema, trigger)) AFTER INSERT ON \(quote(table)) BEGIN SELECT 1; END"
          )
      }
      if let name = message.removingPrefix("unknown database ") {
        return attach(name)
      }
      if let name = message.removingPrefix("no such column: ") {
        return addColumn(name)
      }
      if let name = message.removingPrefix("no such function: ") {
        if FunctionPolicy.effect(of: name, dialect: .sqlite) == .refused {
          throw SQLClassificationError(
            "sql calls '\(asciiLowercased(name))', which reaches outside the database")
        }
        return sqlite3_create_function_v2(
          handle, name, -1, SQLITE_UTF8, nil, { context, _, _ in sqlite3_result_null(context) }, nil, nil, nil
        )
          == SQLITE_OK
      }
      if let name = message.removingPrefix("no such collation sequence: ") {
        return sqlite3_create_collation_v2(handle, name, SQLITE_UTF8, nil, { _, _, _, _, _ in 0 }, nil)
          == SQLITE_OK
      }
      if message.hasPrefix("table "), message.hasSuffix(" values were supplied"),
        let needed = suppliedCount(message)
      {
        return widenStub(named: tableInMessage(message), to: needed)
      }
      if message.hasPrefix("table "), let range = message.firstRange(of: " has no column named ") {
        let table = String(message[message.index(message.startIndex, offsetBy: 6)..<range.lowerBound])
        let column = String(message[range.upperBound...])
        return addColumn(column, toStub: table)
      }
      if message.hasPrefix("ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint") {
        return addUniqueIndexes(SQLiteTokens(statementText))
      }
      return false
    }

    /// A second interpretation of a dotted name (a table whose name holds a dot), once.
    private func retryOtherwise(_ message: String) throws(SQLClassificationError) -> Bool {
      guard let name = message.removingPrefix("no such table: "), name.contains("."),
        tried.insert("whole " + message).inserted
      else { return false }
      return exec("CREATE TABLE \(quote(name))(\(quote(stubColumn)))", creating: ("main", name))
    }

    private let stubColumn = "warden stub"

    private func stubName() -> String {
      stubCount += 1
      return "warden stub \(stubCount)"
    }

    private func split(_ name: String) -> (schema: String, name: String) {
      guard let dot = name.firstIndex(of: ".") else { return ("main", name) }
      return (String(name[..<dot]), String(name[name.index(after: dot)...]))
    }

    private func quote(_ name: String) -> String {
      "\"" + name.replacing("\"", with: "\"\"") + "\""
    }

    private func qualified(_ schema: String, _ name: String) -> String {
      quote(schema) + "." + quote(name)
    }

    private func attach(_ schema: String) -> Bool {
      let key = asciiLowercased(schema)
      if attached.contains(key) { return true }
      guard exec("ATTACH ':memory:' AS \(quote(schema))") else { return false }
      attached.insert(key)
      return true
    }

    private func exec(_ sql: String, creating table: (schema: String, name: String)? = nil) -> Bool {
      if let table {
        guard attach(table.schema) else { return false }
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else { return false }
        stubTables.append(
          (asciiLowercased(table.schema), asciiLowercased(table.name), [asciiLowercased(stubColumn)]))
        return true
      }
      return sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK
    }

    /// Adds a column to a stub table that lacks it: first one named like the qualifier (`t.c`,
    /// `s.t.c`, `"a.b".c`), else the newest stub (an alias, or an unqualified name). A stub that does
    /// not help is followed by the next one on the next round.
    private func addColumn(_ name: String) -> Bool {
      guard let dot = name.lastIndex(of: ".") else { return addColumn(name, toStub: nil) }
      let qualifier = asciiLowercased(String(name[..<dot]))
      let column = String(name[name.index(after: dot)...])
      let key = asciiLowercased(column)
      let last = qualifier.split(separator: ".").last.map(String.init) ?? qualifier
      for candidate in [qualifier, last] {
        if let index = stubTables.lastIndex(where: { $0.name == candidate && !$0.columns.contains(key) }) {
          return addColumn(column, at: index)
        }
      }
      return addColumn(column, toStub: nil)
    }

    private func addColumn(_ column: String, toStub table: String?) -> Bool {
      let key = asciiLowercased(column)
      let candidates = stubTables.indices.reversed().filter { index in
        !stubTables[index].columns.contains(key)
          && (table.map { stubTables[index].name == asciiLowercased($0) } ?? true)
      }
      guard let index = candidates.first else { return false }
      return addColumn(column, at: index)
    }

    private func addColumn(_ column: String, at index: Int) -> Bool {
      let key = asciiLowercased(column)
      let stub = stubTables[index]
      guard
        sqlite3_exec(
          handle, "ALTER TABLE \(qualified(stub.schema, stub.name)) ADD COLUMN \(quote(column))", nil, nil,
          nil)
          == SQLITE_OK
      else { return false }
      stubTables[index].columns.append(key)
      return true
    }

    /// `table t has 1 columns but 3 values were supplied`: the 3.
    private func suppliedCount(_ message: String) -> Int? {
      let words = message.split(separator: " ")
      guard let but = words.firstIndex(of: "but"), but + 1 < words.count else { return nil }
      return Int(words[but + 1])
    }

    private func tableInMessage(_ message: String) -> String {
      let words = message.split(separator: " ")
      guard let has = words.lastIndex(of: "has"), has >= 1 else { return "" }
      return words[1..<has].joined(separator: " ")
    }

    private func widenStub(named table: String, to count: Int) -> Bool {
      let key = asciiLowercased(split(table).name)
      guard count <= 2000, let index = stubTables.lastIndex(where: { $0.name == key }) else { return false }
      while stubTables[index].columns.count < count {
        guard addColumn(stubName(), toStub: stubTables[index].name) else { return false }
      }
      return true
    }

    private func addUniqueIndexes(_ tokens: SQLiteTokens) -> Bool {
      guard let targets = tokens.upsertTargets, !targets.columns.isEmpty else { return false }
      let schema = targets.table.count > 1 ? targets.table[0] : "main"
      let table = targets.table.last ?? ""
      guard stubTables.contains(where: { $0.name == asciiLowercased(table) }) else { return false }
      for columns in targets.columns {
        for column in columns where !columnExists(column, in: table) {
          guard addColumn(column, toStub: table) else { return false }
        }
        let list = columns.map(quote).joined(separator: ", ")
        guard exec("CREATE UNIQUE INDEX \(qualified(schema, stubName())) ON \(quote(table))(\(list))") else {
          return false
        }
      }
      return true
    }

    private func columnExists(_ column: String, in table: String) -> Bool {
      stubTables.contains {
        $0.name == asciiLowercased(table) && $0.columns.contains(asciiLowercased(column))
      }
    }
  }
}

extension String {
  func removingPrefix(_ prefix: String) -> String? {
    hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
  }

}
