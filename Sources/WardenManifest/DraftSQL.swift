/// A draft's entry for a tool that takes SQL, when the dialect shows: the form of the installed SQL
/// manifests (`sql:`, one action per kind of operation, the database named by the launch context).
enum DraftSQL {
  /// A dialect warden classifies, and the kinds of operation that need a human there.
  struct Dialect {
    var name: String
    var destructiveKinds: [String]
  }

  /// The dialect the server's name or the tool's description names; nil when neither does, since
  /// classifying SQL by the wrong parser would misread it.
  static func dialect(server: String, tool: DraftTool) -> Dialect? {
    let text = (server + " " + (tool.summary ?? "")).lowercased()
    if text.contains("sqlite") {
      return Dialect(name: "sqlite", destructiveKinds: ["delete", "drop", "alter", "write"])
    }
    if text.contains("postgres") || DraftNaming.words(server).contains("pg") {
      return Dialect(name: "postgres", destructiveKinds: ["delete", "drop", "alter", "grant", "write"])
    }
    return nil
  }

  /// The rule's lines under the tool's key: `argument` holds the SQL; `others` are the templates
  /// the tool's other arguments gave.
  static func lines(
    argument: DraftArgument, dialect: Dialect, server: String, others: [(template: String, reason: String)]
  ) -> [String] {
    let resources =
      ["db:{ctx.db}", "table:{ctx.db}/{\(argument.name)|sql-table}"] + others.map(\.template)
    return [
      "    # SQL in '\(argument.name)' (\(dialect.name)): each statement's operations are decided on their own;",
      "    # the database is named by the launch context: warden run --context db=NAME",
      "    sql: \(dialect.name)",
      "    action: \"\(DraftNaming.namespace(server)).{\(argument.name)|sql-kind}\"",
      "    resource: [\(resources.map(DraftYAML.quoted).joined(separator: ", "))]",
      "    # destructive: the kinds that change or remove what is there; reads and inserts are not held",
      "    destructive: [\(dialect.destructiveKinds.joined(separator: ", "))]",
    ]
  }
}
