import CPgQuery
import WardenCore
import WardenJSON

/// The PostgreSQL dialect: PostgreSQL's own parser (libpg_query), its parse tree read as JSON and
/// walked in full, so that a write nested in a CTE, a subquery, `EXPLAIN` or `PREPARE` is found.
///
/// The parser folds unquoted identifiers to lowercase and keeps quoted ones exact, as the server
/// does. Tables are reported as written: `schema.table` when qualified, else `table` (the search
/// path is the server's; warden does not guess it). A name that a `WITH` of the same statement
/// defines is a CTE, not a table, where it is visible.
struct PostgresClassifier {
  /// Parse trees nested deeper than this are refused rather than walked.
  static let maximumDepth = 1000

  static func operations(in text: String) throws(SQLClassificationError) -> [SQLOperation] {
    guard !text.utf8.contains(0) else { throw SQLClassificationError("sql text holds a nul character") }
    let result = pg_query_parse(text)
    defer { pg_query_free_parse_result(result) }
    if let error = result.error {
      let message = error.pointee.message.map { String(cString: $0) } ?? "syntax error"
      throw SQLClassificationError(message)
    }
    guard let treeText = result.parse_tree else {
      throw SQLClassificationError("the parser returned no tree")
    }
    let bytes = Array(String(cString: treeText).utf8)
    guard depth(of: bytes) <= maximumDepth else {
      throw SQLClassificationError("sql nests too deeply to classify")
    }
    let tree: JSON
    do { tree = try JSONValue.parse(bytes).json } catch {
      throw SQLClassificationError("cannot read the parse tree: \(error.message)")
    }
    guard case .array(let statements)? = tree["stmts"], !statements.isEmpty else {
      throw SQLClassificationError("no sql statement in the text")
    }
    var operations: [SQLOperation] = []
    for (index, entry) in statements.enumerated() {
      var walker = Walker(statement: index)
      guard let statement = entry["stmt"] else {
        throw SQLClassificationError("the parse tree has no statement")
      }
      try walker.statement(statement)
      if walker.operations.isEmpty { walker.add("read") }
      operations += walker.operations
    }
    return operations.deduplicatedInStatementOrder()
  }

  /// The deepest nesting of objects and arrays in JSON text.
  static func depth(of bytes: [UInt8]) -> Int {
    var depth = 0
    var deepest = 0
    var inString = false
    var escaped = false
    for byte in bytes {
      if inString {
        if escaped {
          escaped = false
        } else if byte == 0x5C {
          escaped = true
        } else if byte == 0x22 {
          inString = false
        }
        continue
      }
      switch byte {
      case 0x22: inString = true
      case 0x7B, 0x5B:
        depth += 1
        deepest = max(deepest, depth)
      case 0x7D, 0x5D: depth -= 1
      default: break
      }
    }
    return deepest
  }

  // MARK: - The walk

  struct Walker {
    let statement: Int
    var operations: [SQLOperation] = []
    /// The CTE names visible where the walk is, innermost last.
    private var commonTables: [Set<String>] = []

    init(statement: Int) {
      self.statement = statement
    }

    mutating func add(_ kind: String, _ table: String? = nil) {
      operations.append(SQLOperation(kind: kind, table: table, statement: statement))
    }

    /// A statement node, `{"SelectStmt": {...}}`; anything else is refused.
    mutating func statement(_ node: JSON) throws(SQLClassificationError) {
      guard case .object(let members) = node, members.count == 1 else {
        throw SQLClassificationError("cannot classify a statement of unexpected shape")
      }
      try statement(type: members[0].key, members[0].value)
    }

    /// Every node under `value`: tables read in `FROM`, functions called, nested statements.
    mutating func walk(_ value: JSON?, skipping skipped: Set<String> = []) throws(SQLClassificationError) {
      switch value {
      case .array(let items)?:
        for item in items { try walk(item) }
      case .object(let members)?:
        if members.count == 1, let first = members[0].key.utf8.first, (0x41...0x5A).contains(first) {
          try node(type: members[0].key, members[0].value)
        } else {
          for member in members where !skipped.contains(member.key) { try walk(member.value) }
        }
      default: break
      }
    }

    private mutating func node(type: String, _ body: JSON) throws(SQLClassificationError) {
      switch type {
      case "RangeVar": read(body)
      case "FuncCall":
        try function(body["funcname"])
        try walk(body, skipping: ["funcname"])
      case _ where type.hasSuffix("Stmt"): try statement(type: type, body)
      default: try walk(body)
      }
    }

    // MARK: Names

    /// `[catalog.][schema.]name` of a RangeVar, as written (the parser has folded unquoted names).
    static func name(ofRange range: JSON?) -> String? {
      guard let relation = range?["relname"]?.stringValue else { return nil }
      let parts = [range?["catalogname"]?.stringValue, range?["schemaname"]?.stringValue, relation]
      return parts.compactMap { $0 }.joined(separator: ".")
    }

    /// A name given as a list of `String` nodes (`DROP`, functions), or one `String` node.
    static func name(ofList list: JSON?) -> String? {
      switch list {
      case .array(let items)?:
        let parts = items.compactMap { $0["String"]?["sval"]?.stringValue }
        return parts.isEmpty ? nil : parts.joined(separator: ".")
      case .object?:
        if let items = list?["List"]?["items"] { return name(ofList: items) }
        if let string = list?["String"]?["sval"]?.stringValue { return string }
        if let object = list?["ObjectWithArgs"] { return name(ofList: object["objname"]) }
        if let type = list?["TypeName"] { return name(ofList: type["names"]) }
        if let range = list?["RangeVar"] { return name(ofRange: range) }
        return nil
      default: return nil
      }
    }

    private func isCommonTable(_ range: JSON) -> Bool {
      guard range["schemaname"] == nil, let name = range["relname"]?.stringValue else { return false }
      return commonTables.contains { $0.contains(name) }
    }

    private mutating func read(_ range: JSON) {
      guard !isCommonTable(range) else { return }
      add("read", Self.name(ofRange: range))
    }

    private mutating func function(_ names: JSON?) throws(SQLClassificationError) {
      guard case .array(let items)? = names else { return add("write") }
      let parts = items.compactMap { $0["String"]?["sval"]?.stringValue }
      let name: String
      if parts.count == 1 {
        name = parts[0]
      } else if parts.count == 2 && parts[0] == "pg_catalog" {
        name = parts[1]
      } else {
        return add("write")
      }
      switch FunctionPolicy.effect(of: name, dialect: .postgres) {
      case .harmless: break
      case .operation(let kind): add(kind)
      case .refused: throw SQLClassificationError("sql calls '\(name)', which reaches outside the database")
      }
    }

    // MARK: WITH

    /// Walks the CTEs of `withClause`, each seeing the names it may see, then runs `body` with every
    /// name of the clause visible.
    private mutating func withCommonTables(
      _ withClause: JSON?, _ body: (inout Walker) throws(SQLClassificationError) -> Void
    ) throws(SQLClassificationError) {
      guard let withClause, case .array(let ctes)? = withClause["ctes"] else { return try body(&self) }
      let recursive = withClause["recursive"]?.isTrue ?? false
      let names = ctes.map { $0["CommonTableExpr"]?["ctename"]?.stringValue ?? "" }
      for (index, cte) in ctes.enumerated() {
        commonTables.append(Set(recursive ? names : Array(names[..<index])))
        defer { commonTables.removeLast() }
        try walk(cte["CommonTableExpr"]?["ctequery"])
      }
      commonTables.append(Set(names))
      defer { commonTables.removeLast() }
      try body(&self)
    }

    // MARK: Statements

    private mutating func statement(type: String, _ body: JSON) throws(SQLClassificationError) {
      switch type {
      case "SelectStmt": try select(body)
      case "InsertStmt":
        try withCommonTables(body["withClause"]) { walker throws(SQLClassificationError) in
          let table = Self.name(ofRange: body["relation"])
          walker.add("insert", table)
          if body["onConflictClause"]?["action"]?.stringValue == "ONCONFLICT_UPDATE" {
            walker.add("update", table)
          }
          if body["returningList"] != nil || body["onConflictClause"]?["whereClause"] != nil {
            walker.add("read", table)
          }
          try walker.walk(body, skipping: ["relation", "withClause"])
        }
      case "UpdateStmt":
        try withCommonTables(body["withClause"]) { walker throws(SQLClassificationError) in
          let table = Self.name(ofRange: body["relation"])
          walker.add("update", table)
          if body["whereClause"] != nil || body["returningList"] != nil
            || Self.mentionsColumn(body["targetList"])
          {
            walker.add("read", table)
          }
          try walker.walk(body, skipping: ["relation", "withClause"])
        }
      case "DeleteStmt":
        try withCommonTables(body["withClause"]) { walker throws(SQLClassificationError) in
          let table = Self.name(ofRange: body["relation"])
          walker.add("delete", table)
          if body["whereClause"] != nil || body["returningList"] != nil { walker.add("read", table) }
          try walker.walk(body, skipping: ["relation", "withClause"])
        }
      case "MergeStmt":
        try withCommonTables(body["withClause"]) { walker throws(SQLClassificationError) in
          let table = Self.name(ofRange: body["relation"])
          walker.add("read", table)
          if case .array(let clauses)? = body["mergeWhenClauses"] {
            for clause in clauses {
              switch clause["MergeWhenClause"]?["commandType"]?.stringValue {
              case "CMD_INSERT": walker.add("insert", table)
              case "CMD_UPDATE": walker.add("update", table)
              case "CMD_DELETE": walker.add("delete", table)
              default: break
              }
            }
          }
          try walker.walk(body, skipping: ["relation", "withClause"])
        }
      case "CreateStmt":
        add("create", Self.name(ofRange: body["relation"]))
        try walk(body["inhRelations"])
        try walk(body["partbound"])
      case "CreateTableAsStmt":
        add("create", Self.name(ofRange: body["into"]?["rel"]))
        try walk(body["query"])
      case "ViewStmt":
        add("create", Self.name(ofRange: body["view"]))
        try walk(body["query"])
      case "IndexStmt":
        let table = Self.name(ofRange: body["relation"])
        let schema = body["relation"]?["schemaname"]?.stringValue
        let index = body["idxname"]?.stringValue.map { name in schema.map { "\($0).\(name)" } ?? name }
        add("create", index ?? table)
      case "CreateTrigStmt":
        let schema = body["relation"]?["schemaname"]?.stringValue
        add("create", body["trigname"]?.stringValue.map { name in schema.map { "\($0).\(name)" } ?? name })
      case "RuleStmt": add("create", body["rulename"]?.stringValue)
      case "CreateSeqStmt": add("create", Self.name(ofRange: body["sequence"]))
      case "AlterSeqStmt": add("alter", Self.name(ofRange: body["sequence"]))
      case "CreateSchemaStmt":
        add("create", body["schemaname"]?.stringValue)
        if case .array(let elements)? = body["schemaElts"] {
          for element in elements { try statement(element) }
        }
      case "CreateFunctionStmt":
        let language = Self.option("language", in: body["options"]) ?? "sql"
        guard ["sql", "plpgsql"].contains(language) else {
          throw SQLClassificationError(
            "sql creates a function in language '\(language)', which may reach outside the database")
        }
        add("create", Self.name(ofList: body["funcname"]))
      case "DropStmt": try drop(body)
      case "AlterTableStmt": add("alter", Self.name(ofRange: body["relation"]))
      case "RenameStmt", "AlterOwnerStmt", "AlterObjectSchemaStmt", "CommentStmt", "SecLabelStmt",
        "AlterFunctionStmt", "AlterEnumStmt", "AlterDomainStmt", "AlterStatsStmt":
        add("alter", Self.name(ofRange: body["relation"]) ?? Self.name(ofList: body["object"]))
      case "AlterDatabaseStmt", "AlterDatabaseSetStmt", "AlterDatabaseRefreshCollStmt": add("alter")
      case "CreateDomainStmt", "CompositeTypeStmt", "CreateEnumStmt", "CreateRangeStmt", "DefineStmt",
        "CreateStatsStmt", "CreateEventTrigStmt", "CreateConversionStmt", "CreatedbStmt":
        add("create")
      case "DropdbStmt", "DropOwnedStmt": add("drop")
      case "TruncateStmt":
        if case .array(let relations)? = body["relations"] {
          for relation in relations { add("delete", Self.name(ofRange: relation["RangeVar"])) }
        }
      case "CopyStmt":
        if body["is_program"]?.isTrue == true || body["filename"] != nil {
          throw SQLClassificationError(
            "sql copies to or from a program or a server file, outside the database")
        }
        let table = Self.name(ofRange: body["relation"])
        add("copy", table)
        if table != nil { add(body["is_from"]?.isTrue == true ? "insert" : "read", table) }
        try walk(body["query"])
        try walk(body["whereClause"])
      case "TransactionStmt": add("transaction")
      case "VariableSetStmt", "DiscardStmt", "ConstraintsSetStmt", "DeallocateStmt": add("set")
      case "VariableShowStmt", "ListenStmt", "UnlistenStmt", "FetchStmt", "ClosePortalStmt": add("read")
      case "GrantStmt":
        if body["objtype"]?.stringValue == "OBJECT_TABLE",
          body["targtype"]?.stringValue == "ACL_TARGET_OBJECT",
          case .array(let objects)? = body["objects"]
        {
          for object in objects { add("grant", Self.name(ofRange: object["RangeVar"])) }
        } else {
          add("grant")
        }
      case "CreatePolicyStmt", "AlterPolicyStmt": add("grant", Self.name(ofRange: body["table"]))
      case "GrantRoleStmt", "CreateRoleStmt", "AlterRoleStmt", "AlterRoleSetStmt", "DropRoleStmt",
        "AlterDefaultPrivilegesStmt", "ReassignOwnedStmt":
        add("grant")
      case "VacuumStmt":
        let kind = body["is_vacuumcmd"]?.isTrue == true ? "vacuum" : "analyze"
        guard case .array(let relations)? = body["rels"], !relations.isEmpty else { return add(kind) }
        for relation in relations { add(kind, Self.name(ofRange: relation["VacuumRelation"]?["relation"])) }
      case "ClusterStmt": add("reindex", Self.name(ofRange: body["relation"]))
      case "ReindexStmt": add("reindex", Self.name(ofRange: body["relation"]) ?? body["name"]?.stringValue)
      case "RefreshMatViewStmt": add("write", Self.name(ofRange: body["relation"]))
      case "LockStmt":
        if case .array(let relations)? = body["relations"] {
          for relation in relations { add("lock", Self.name(ofRange: relation["RangeVar"])) }
        }
      case "ExplainStmt", "PrepareStmt", "DeclareCursorStmt":
        // EXPLAIN ANALYZE runs its statement; a prepared one runs at EXECUTE: classified as if run.
        try walk(body["query"])
      case "CallStmt":
        add("write")
        try walk(body["funccall"])
      case "ExecuteStmt", "NotifyStmt", "CheckPointStmt": add("write")
      case "DoStmt":
        throw SQLClassificationError("sql runs a do block, whose code cannot be classified")
      case "CreateExtensionStmt", "AlterExtensionStmt", "AlterExtensionContentsStmt", "LoadStmt",
        "CreatePLangStmt":
        throw SQLClassificationError(
          "sql loads an extension or library, which may reach outside the database")
      case "CreateFdwStmt", "AlterFdwStmt", "CreateForeignServerStmt", "AlterForeignServerStmt",
        "CreateUserMappingStmt", "AlterUserMappingStmt", "ImportForeignSchemaStmt", "CreateForeignTableStmt",
        "CreateSubscriptionStmt", "AlterSubscriptionStmt":
        throw SQLClassificationError("sql connects the database to another server")
      case "CreateTableSpaceStmt", "AlterSystemStmt":
        throw SQLClassificationError("sql changes the server's files or configuration")
      default:
        throw SQLClassificationError("cannot classify a '\(Self.words(type))' statement")
      }
    }

    private mutating func select(_ body: JSON) throws(SQLClassificationError) {
      try withCommonTables(body["withClause"]) { walker throws(SQLClassificationError) in
        if let into = body["intoClause"] { walker.add("create", Self.name(ofRange: into["rel"])) }
        for side in ["larg", "rarg"] {
          if let part = body[side] { try walker.select(part) }
        }
        try walker.walk(body, skipping: ["withClause", "intoClause", "larg", "rarg"])
      }
    }

    private mutating func drop(_ body: JSON) throws(SQLClassificationError) {
      let type = body["removeType"]?.stringValue ?? ""
      guard case .array(let objects)? = body["objects"] else { return add("drop") }
      switch type {
      case "OBJECT_EXTENSION":
        throw SQLClassificationError("sql drops an extension, which may reach outside the database")
      case "OBJECT_SCHEMA":
        // Dropping a schema (with CASCADE, everything in it): `name.*`.
        for object in objects { add("drop", Self.name(ofList: object).map { "\($0).*" }) }
      case "OBJECT_TRIGGER", "OBJECT_RULE", "OBJECT_POLICY":
        // `DROP TRIGGER tr ON s.t`: the list is [s, t, tr]; name the trigger, in the table's schema.
        for object in objects {
          let parts = Self.name(ofList: object)?.split(separator: ".").map(String.init) ?? []
          let name = parts.last
          add("drop", parts.count > 2 ? name.map { "\(parts[0]).\($0)" } : name)
        }
      default:
        for object in objects { add("drop", Self.name(ofList: object)) }
      }
    }

    // MARK: Helpers

    static func option(_ name: String, in options: JSON?) -> String? {
      guard case .array(let items)? = options else { return nil }
      for item in items where item["DefElem"]?["defname"]?.stringValue == name {
        return item["DefElem"]?["arg"]?["String"]?["sval"]?.stringValue
      }
      return nil
    }

    static func mentionsColumn(_ value: JSON?) -> Bool {
      switch value {
      case .array(let items)?: return items.contains { mentionsColumn($0) }
      case .object(let members)?:
        return members.contains { $0.key == "ColumnRef" || mentionsColumn($0.value) }
      default: return false
      }
    }

    /// `CreateExtensionStmt` as `create extension`.
    static func words(_ type: String) -> String {
      var text = ""
      let name = type.hasSuffix("Stmt") ? String(type.dropLast(4)) : type
      for character in name {
        if character.isUppercase, !text.isEmpty { text.append(" ") }
        text += character.lowercased()
      }
      return text
    }
  }
}

extension JSON {
  /// Whether this is the JSON value `true`.
  var isTrue: Bool {
    if case .bool(true) = self { return true }
    return false
  }
}
