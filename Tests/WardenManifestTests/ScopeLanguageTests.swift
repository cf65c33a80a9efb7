import Testing
import WardenCore
import WardenJSON
import WardenManifest

/// A classifier that answers from a table, so the scope language is tested without a parser.
struct TableClassifier: SQLClassifying {
  var answers: [String: [SQLOperation]]

  func operations(in text: String, dialect: SQLDialect, schema: String?) throws(SQLClassificationError)
    -> [SQLOperation]
  {
    guard let known = answers[text] else { throw SQLClassificationError("unknown statement") }
    return known
  }
}

private func op(_ kind: String, _ table: String?, _ statement: Int = 0) -> SQLOperation {
  SQLOperation(kind: kind, table: table, statement: statement)
}

private func arguments(_ text: String) throws -> JSON {
  try JSONValue.parse(text).json
}

private func grant(_ id: String, allow actions: [String], on resources: [String] = [], forbid: Bool = false)
  -> Grant
{
  Grant(
    id: id, effect: forbid ? .forbid : .allow, actions: actions, resources: resources, purpose: "test",
    issuedBy: "me", issuedAt: 0, expiresAt: nil)
}

private let identity = """
  server: idp
  tools:
    update_user:
      rules:
        - when: {present: [role]}
          action: idp.admin
          destructive: true
        - when: {equals: {user_id: admin}}
          action: idp.admin
          destructive: true
      action: idp.write
      resource: "user:{user_id}"
    delete_user:
      rules:
        - when: {in: {user_id: [admin, root]}}
          action: idp.admin
      action: idp.delete
      resource: "user:{user_id}"
      destructive: true
    list_users:
      action: idp.read
      resource: "folder:{folder?=all}"
    search:
      action: idp.read
      resource: ["users", "tag:{tag?}"]
  """

private let database = """
  server: db
  tools:
    write_query:
      sql: sqlite
      action: "db.{query|sql-kind}"
      resource: ["db:{ctx.env}", "table:{ctx.env}/{query|sql-table}"]
      destructive: [delete, drop]
  """

@Suite struct ConditionalRuleTests {
  let manifest: Manifest

  init() throws {
    manifest = try ManifestLoader.parse(identity, file: "idp.yaml")
  }

  func scopes(_ tool: String, _ json: String) throws -> Result<CallScopes, ScopeDenial> {
    manifest.scopes(
      for: ToolCall(server: "idp", agent: "a", tool: tool, arguments: try arguments(json)), annotations: nil)
  }

  @Test func firstMatchingRuleDecides() throws {
    let email = try scopes("update_user", #"{"user_id": "u1", "email": "x@y"}"#).get()
    #expect(email.action == "idp.write" && !email.destructive && email.resources.map(\.text) == ["user:u1"])
    let role = try scopes("update_user", #"{"user_id": "u1", "role": "viewer"}"#).get()
    #expect(role.action == "idp.admin" && role.destructive && role.resources.map(\.text) == ["user:u1"])
    // A null role is still in the call: the server may act on it.
    #expect(try scopes("update_user", #"{"user_id": "u1", "role": null}"#).get().action == "idp.admin")
    #expect(try scopes("update_user", #"{"user_id": "admin", "email": "x@y"}"#).get().action == "idp.admin")
    #expect(try scopes("delete_user", #"{"user_id": "root"}"#).get().action == "idp.admin")
    let other = try scopes("delete_user", #"{"user_id": "u2"}"#).get()
    #expect(other.action == "idp.delete" && other.destructive)
  }

  @Test func valuesAreComparedAsBytes() throws {
    // "Admin" and a decomposed form are other users to a byte-comparing condition; a manifest that
    // wants case folding must list the forms (or use present:).
    #expect(try scopes("delete_user", #"{"user_id": "Admin"}"#).get().action == "idp.delete")
    #expect(try scopes("delete_user", #"{"user_id": 1}"#).get().action == "idp.delete")
  }

  @Test func optionalArgumentsAndDefaults() throws {
    #expect(try scopes("list_users", "{}").get().resources.map(\.text) == ["folder:all"])
    #expect(try scopes("list_users", #"{"folder": "ops"}"#).get().resources.map(\.text) == ["folder:ops"])
    #expect(try scopes("search", "{}").get().resources.map(\.text) == ["users"])
    #expect(try scopes("search", #"{"tag": "x"}"#).get().resources.map(\.text) == ["users", "tag:x"])
    guard case .failure(let denial) = try scopes("update_user", #"{"email": "x"}"#) else {
      Issue.record("a missing required argument must be refused")
      return
    }
    #expect(denial.kind == .badArguments && denial.message.contains("user_id"))
  }

  @Test func onlyConditionalRules() throws {
    let manifest = try ManifestLoader.parse(
      """
      server: s
      tools:
        t:
          rules:
            - when: {present: [a]}
              action: s.a
      """, file: "m.yaml")
    let call = ToolCall(server: "s", agent: "a", tool: "t", arguments: try arguments(#"{"b": 1}"#))
    guard case .failure(let denial) = manifest.scopes(for: call, annotations: nil) else {
      Issue.record("a call no rule matches must be refused")
      return
    }
    #expect(denial.kind == .badArguments && denial.message.contains("no rule"))
  }

  @Test func lintReportsUnreachableAndContradictoryRules() {
    let text = """
      server: s
      tools:
        t:
          action: s.w
          rules:
            - when: {present: [role]}
              action: s.admin
            - when: {present: [role, email]}
              action: s.other
            - when: {equals: {role: admin}}
              action: s.other
            - when: {present: [x], absent: [x]}
              action: s.other
            - when: {in: {y: [a, b]}}
              action: s.other
            - when: {equals: {y: a}}
              action: s.other
            - when: {equals: {y: c}}
              action: s.other
      """
    let found = problems(text)
    #expect(found.contains { $0.contains("rule 2 of tool 't' can never apply: rule 1") })
    #expect(found.contains { $0.contains("rule 3 of tool 't' can never apply: rule 1") })
    #expect(found.contains { $0.contains("rule 4 of tool 't' can never apply: its conditions contradict") })
    #expect(found.contains { $0.contains("rule 6 of tool 't' can never apply: rule 5") })
    #expect(!found.contains { $0.contains("rule 7") })
    #expect(!found.contains { $0.contains(": rule 5 of") })
  }

  @Test func ruleShapeErrors() {
    #expect(
      problems("server: s\ntools:\n  t:\n    rules:\n      - action: s.a\n").contains {
        $0.contains("has no 'when'")
      })
    #expect(
      problems("server: s\ntools:\n  t:\n    rules:\n      - when: {}\n        action: s.a\n").contains {
        $0.contains("has no test")
      })
    #expect(
      problems("server: s\ntools:\n  t:\n    rules:\n      - when: {color: [a]}\n        action: s.a\n")
        .contains { $0.contains("unknown key 'color'") })
    #expect(
      problems("server: s\ntools:\n  t:\n    rules: {a: 1}\n").contains { $0.contains("must be a list") })
  }

  @Test func authorizationFollowsTheRule() throws {
    let grants = [grant("g1", allow: ["idp.write", "idp.delete"], on: ["user:*"])]
    let policy = CallPolicy(manifest: manifest, serverName: "idp", protectedPaths: [])
    func decide(_ tool: String, _ json: String) throws -> Authorization {
      policy.decide(tool: tool, arguments: try arguments(json), agent: "a", grants: GrantSet(grants), now: 1)
        .1
    }
    #expect(try decide("update_user", #"{"user_id": "u1", "email": "e"}"#).verdict == .allow)
    #expect(
      try decide("update_user", #"{"user_id": "u1", "role": "owner", "email": "e"}"#).reason == .notDelegated)
    #expect(try decide("delete_user", #"{"user_id": "admin"}"#).reason == .notDelegated)
    #expect(try decide("delete_user", #"{"user_id": "u7"}"#).verdict == .confirm)
  }

  @Test func conditionArgumentsAreRead() throws {
    let policy = CallPolicy(manifest: manifest, serverName: "idp", protectedPaths: [])
    #expect(policy.argumentNames(forTool: "update_user") == ["role", "user_id"])
  }
}

@Suite struct LaunchContextTests {
  @Test func contextInTemplates() throws {
    let manifest = try ManifestLoader.parse(
      """
      server: cloud
      tools:
        delete_volume:
          action: "cloud.{ctx.env}.delete"
          resource: "env:{ctx.env}/volume:{volume_id}"
      """, file: "m.yaml")
    let call = ToolCall(
      server: "cloud", agent: "a", tool: "delete_volume", arguments: try arguments(#"{"volume_id": "v1"}"#))
    let scopes = try manifest.scopes(for: call, annotations: nil, context: ["env": "production"]).get()
    #expect(scopes.action == "cloud.production.delete")
    #expect(scopes.resources.map(\.text) == ["env:production/volume:v1"])
    guard case .failure(let denial) = manifest.scopes(for: call, annotations: nil) else {
      Issue.record("a missing context must deny")
      return
    }
    #expect(denial.message.contains("--context env=VALUE"))
    // A context value that is no action name cannot make one.
    guard case .failure = manifest.scopes(for: call, annotations: nil, context: ["env": "a b"]) else {
      Issue.record("an action with a space must be refused")
      return
    }
    #expect(LaunchContext.keys(readBy: manifest) == ["env"])
  }

  @Test func actionsCannotReadArguments() {
    #expect(
      problems("server: s\ntools:\n  t:\n    action: \"s.{kind}\"\n").contains {
        $0.contains("reads the call's arguments")
      })
    #expect(
      problems("server: s\ntools:\n  t:\n    action: \"s.{q|sql-table}\"\n    sql: sqlite\n").contains {
        $0.contains("reads the call's arguments")
      })
    #expect(
      problems("server: s\ntools:\n  t:\n    action: \"s.{q|sql-kind}\"\n").contains {
        $0.contains("no 'sql:'")
      })
    #expect(problems("server: s\ntools:\n  t:\n    action: \"s.{ctx.env}\"\n").isEmpty)
    #expect(
      problems("server: s\ntools:\n  t:\n    action: s\n    resource: \"{ctx.a?}\"\n").contains {
        $0.contains("cannot be optional")
      })
  }

  @Test func configurationWinsKeyByKey() throws {
    let merged = LaunchContext.merge(
      commandLine: ["env": "dev", "region": "eu"], pinned: ["env": "production"])
    #expect(merged.context == ["env": "production", "region": "eu"])
    #expect(merged.overridden == ["env"])
    let configuration = try WardenConfiguration.parse(
      "servers:\n  db-prod:\n    context: {env: production}\n", file: "c")
    #expect(configuration.servers["db-prod"]?.context == ["env": "production"])
    #expect(throws: ConfigurationError.self) {
      try WardenConfiguration.parse("servers:\n  db:\n    modes: report\n", file: "c")
    }
    #expect(throws: ConfigurationError.self) {
      try WardenConfiguration.parse("servers:\n  db:\n    context: {\"a b\": x}\n", file: "c")
    }
    #expect(LaunchContext.pair("env=prod=1")! == ("env", "prod=1"))
    #expect(LaunchContext.pair("=x") == nil && LaunchContext.pair("env") == nil)
  }
}

@Suite struct SQLScopeTests {
  let manifest: Manifest
  let classifier = TableClassifier(answers: [
    "INSERT INTO notes VALUES (1)": [op("insert", "notes")],
    "DELETE FROM contacts": [op("delete", "contacts")],
    "INSERT INTO a SELECT * FROM b; DROP TABLE c": [op("insert", "a"), op("read", "b"), op("drop", "c", 1)],
    "BEGIN": [op("transaction", nil)],
    "nothing": [],
  ])

  init() throws {
    manifest = try ManifestLoader.parse(database, file: "db.yaml")
  }

  func scopes(_ query: String, sql: (any SQLClassifying)? = nil) throws -> Result<CallScopes, ScopeDenial> {
    let call = ToolCall(
      server: "db", agent: "a", tool: "write_query",
      arguments: .object([JSON.Member("query", .string(query))]))
    return manifest.scopes(for: call, annotations: nil, context: ["env": "dev"], sql: sql ?? classifier)
  }

  @Test func oneOperation() throws {
    let insert = try scopes("INSERT INTO notes VALUES (1)").get()
    #expect(insert.action == "db.insert" && !insert.destructive && insert.operations.isEmpty)
    #expect(insert.resources.map(\.text) == ["db:dev", "table:dev/notes"])
    let delete = try scopes("DELETE FROM contacts").get()
    #expect(delete.action == "db.delete" && delete.destructive)
  }

  @Test func severalOperationsAreEachDecided() throws {
    let mixed = try scopes("INSERT INTO a SELECT * FROM b; DROP TABLE c").get()
    #expect(mixed.operations.map(\.action) == ["db.insert", "db.read", "db.drop"])
    #expect(mixed.operations.map(\.destructive) == [false, false, true])
    #expect(mixed.operations[0].resources.map(\.text) == ["db:dev", "table:dev/a"])
    #expect(mixed.destructive)

    let policy = CallPolicy(
      manifest: manifest, serverName: "db", protectedPaths: [], context: ["env": "dev"], sql: classifier)
    func decide(_ grants: [Grant]) -> Authorization {
      policy.decide(
        tool: "write_query",
        arguments: .object([JSON.Member("query", .string("INSERT INTO a SELECT * FROM b; DROP TABLE c"))]),
        agent: "a", grants: GrantSet(grants), now: 1
      ).1
    }
    let writes = grant("g1", allow: ["db.insert", "db.read"], on: ["db:dev", "table:dev/*"])
    let denied = decide([writes])
    #expect(denied.verdict == .deny && denied.operation?.action == "db.drop")
    #expect(
      DelegationText.suggestedGrant(
        for: ToolCall(server: "db", agent: "a", tool: "t", arguments: .object([])), authorization: denied)?
        .contains("--allow db.drop") == true)
    let all = grant("g2", allow: ["db.*"], on: ["db:dev", "table:dev/*"])
    let held = decide([writes, all])
    #expect(held.verdict == .confirm && held.reason == .destructive && held.operation?.action == "db.drop")
    #expect(Set(held.grants.map(\.id)) == ["g1", "g2"])
    let forbid = grant("f1", allow: ["db.drop"], on: ["table:dev/c"], forbid: true)
    #expect(decide([all, forbid]).reason == .forbidden)
    // A forbid decides before the operations that are merely not delegated, wherever it stands.
    let forbidden = decide([forbid])
    #expect(forbidden.reason == .forbidden && forbidden.operation?.action == "db.drop")
  }

  @Test func operationsWithoutTablesAndFailures() throws {
    let begin = try scopes("BEGIN").get()
    #expect(begin.action == "db.transaction" && begin.resources.map(\.text) == ["db:dev"])
    for text in ["nothing", "garbage"] {
      guard case .failure(let denial) = try scopes(text) else {
        Issue.record("'\(text)' must be refused")
        continue
      }
      #expect(denial.kind == .badArguments)
    }
    struct NoClassifier: SQLClassifying {
      func operations(in text: String, dialect: SQLDialect, schema: String?) throws(SQLClassificationError)
        -> [SQLOperation]
      { throw SQLClassificationError("parse error") }
    }
    guard case .failure(let denial) = try scopes("DELETE FROM contacts", sql: NoClassifier()) else {
      Issue.record("text the parser rejects gives no scope")
      return
    }
    #expect(denial.message.contains("parse error"))
    let call = ToolCall(
      server: "db", agent: "a", tool: "write_query", arguments: .object([JSON.Member("query", .number("1"))]))
    guard
      case .failure = manifest.scopes(for: call, annotations: nil, context: ["env": "dev"], sql: classifier)
    else {
      Issue.record("SQL that is not a string must be refused")
      return
    }
    guard
      case .failure(let missing) = manifest.scopes(
        for: ToolCall(
          server: "db", agent: "a", tool: "write_query",
          arguments: .object([JSON.Member("query", .string("BEGIN"))])), annotations: nil,
        context: ["env": "dev"])
    else {
      Issue.record("without a classifier, SQL rules deny")
      return
    }
    #expect(missing.message.contains("no SQL classifier"))
  }

  @Test func sqlSettingsAreChecked() {
    #expect(
      problems("server: s\ntools:\n  t:\n    action: s.a\n    resource: \"t:{q|sql-table}\"\n").contains {
        $0.contains("declares no 'sql:'")
      })
    #expect(
      problems("server: s\ntools:\n  t:\n    sql: mysql\n    action: s.a\n").contains {
        $0.contains("unknown SQL dialect 'mysql'")
      })
    #expect(
      problems(
        "server: s\ntools:\n  t:\n    sql: {dialect: sqlite, schema: \"{db_path}\"}\n    action: s.a\n"
      ).contains { $0.contains("only the launch context") })
    #expect(
      problems(
        "server: s\ntools:\n  t:\n    sql: {dialect: postgres, schema: \"{ctx.x}\"}\n    action: s.a\n"
      ).contains { $0.contains("sqlite dialect only") })
    #expect(
      problems(
        "server: s\ntools:\n  t:\n    sql: {dialect: sqlite, schema: \"{ctx.db}\"}\n    action: \"s.{q|sql-kind}\"\n    destructive: [delete]\n"
      ).isEmpty)
    #expect(
      problems("server: s\ntools:\n  t:\n    action: s.a\n    destructive: [delete]\n").contains {
        $0.contains("only for a tool that declares 'sql:'")
      })
    #expect(
      problems(
        "server: s\ntools:\n  t:\n    action: s.a\n    resource: \"{q|lower|sql-kind}\"\n    sql: sqlite\n"
      ).contains { $0.contains("must be the first filter") })
  }
}
