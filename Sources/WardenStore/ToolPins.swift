import GRDB
import WardenCore

extension GrantStore {
  /// Compares a server's tools, as a `tools/list` result showed them, with their pins, in one
  /// transaction. With no pins yet for this server and command, or with `pinNew` (the session that
  /// made the first pins, whose list may come in pages), the tools are pinned as they are; otherwise
  /// a tool whose definition differs becomes `changed`, an unknown one `added` (both keep their
  /// pinned definition and the one seen), and a changed tool seen as pinned again is `pinned`.
  /// Returns the tools whose state this observation changed, with their new state, and whether it
  /// made the first pins.
  public func observeTools(
    server: String, command: String, definitions: [(tool: String, definition: String)], pinNew: Bool,
    at: Int64
  ) throws(StoreError) -> (changes: [(tool: String, state: ToolPin.State)], pinnedFirst: Bool) {
    try guarded("cannot compare the tools of server '\(server)' with their pins in \(databasePath)") {
      try pool.write { db in
        let rows = try Row.fetchAll(
          db, sql: "SELECT tool, pinned, observed, state FROM tool_pins WHERE server = ? AND command = ?",
          arguments: [server, command])
        var known: [String: (pinned: String?, observed: String?, state: String)] = [:]
        for row in rows { known[row["tool"]] = (row["pinned"], row["observed"], row["state"]) }
        let first = known.isEmpty
        var changes: [(String, ToolPin.State)] = []
        for (tool, definition) in definitions {
          guard let current = known[tool] else {
            let pin = first || pinNew
            try db.execute(
              sql: """
                INSERT INTO tool_pins (server, command, tool, pinned, observed, state, since)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """,
              arguments: [
                server, command, tool, pin ? definition : nil, pin ? nil : definition,
                pin ? "pinned" : "added", at,
              ])
            if !pin { changes.append((tool, .added)) }
            known[tool] = (pin ? definition : nil, pin ? nil : definition, pin ? "pinned" : "added")
            continue
          }
          if let pinned = current.pinned, pinned == definition {
            if current.state != "pinned" {
              try db.execute(
                sql: """
                  UPDATE tool_pins SET observed = NULL, state = 'pinned', since = ?
                  WHERE server = ? AND command = ? AND tool = ?
                  """, arguments: [at, server, command, tool])
              changes.append((tool, .pinned))
            }
          } else if current.observed != definition {
            let state = current.pinned == nil ? "added" : "changed"
            try db.execute(
              sql: """
                UPDATE tool_pins SET observed = ?, state = ?, since = ?
                WHERE server = ? AND command = ? AND tool = ?
                """, arguments: [definition, state, at, server, command, tool])
            if current.state == "pinned" { changes.append((tool, state == "added" ? .added : .changed)) }
          }
        }
        return (changes, first && !definitions.isEmpty)
      }
    }
  }

  /// The pins of `server` (every server when nil), by server, command and tool.
  public func toolPins(server: String? = nil) throws(StoreError) -> [ToolPin] {
    try guarded("cannot read the tool pins in \(databasePath)") {
      try pool.read { db in
        let filter = server == nil ? "" : " WHERE server = ?"
        return try Row.fetchAll(
          db,
          sql: """
            SELECT server, command, tool, pinned, observed, state, since, accepted_by FROM tool_pins\(filter)
            ORDER BY server, command, tool
            """,
          arguments: server.map { [$0] } ?? []
        ).map { row in
          ToolPin(
            server: row["server"], command: row["command"], tool: row["tool"], pinned: row["pinned"],
            observed: row["observed"], state: ToolPin.State(rawValue: row["state"]) ?? .changed,
            since: row["since"], acceptedBy: row["accepted_by"])
        }
      }
    }
  }

  /// The tools of one server instance that drifted (changed or added), by name.
  public func driftedTools(server: String, command: String) throws(StoreError) -> [String: ToolPin.State] {
    try guarded("cannot read the tool pins in \(databasePath)") {
      try pool.read { db in
        var drifted: [String: ToolPin.State] = [:]
        for row in try Row.fetchAll(
          db, sql: "SELECT tool, state FROM tool_pins WHERE server = ? AND command = ? AND state != 'pinned'",
          arguments: [server, command])
        {
          drifted[row["tool"]] = ToolPin.State(rawValue: row["state"]) ?? .changed
        }
        return drifted
      }
    }
  }

  /// Accepts what was seen of `server`'s drifted tools (only `tool`, when given; every command line
  /// the server ran with): the definition seen becomes the pinned one. Returns the pins accepted, as
  /// they were before.
  public func acceptTools(server: String, tool: String?, by: String, at: Int64) throws(StoreError)
    -> [ToolPin]
  {
    try guarded("cannot accept tools in \(databasePath)") {
      try pool.write { db in
        let drifted = try Row.fetchAll(
          db,
          sql: """
            SELECT server, command, tool, pinned, observed, state, since, accepted_by FROM tool_pins
            WHERE server = ? AND state != 'pinned'\(tool == nil ? "" : " AND tool = ?")
            ORDER BY command, tool
            """,
          arguments: tool.map { [server, $0] } ?? [server]
        ).map { row in
          ToolPin(
            server: row["server"], command: row["command"], tool: row["tool"], pinned: row["pinned"],
            observed: row["observed"], state: ToolPin.State(rawValue: row["state"]) ?? .changed,
            since: row["since"], acceptedBy: row["accepted_by"])
        }
        for pin in drifted {
          try db.execute(
            sql: """
              UPDATE tool_pins SET pinned = observed, observed = NULL, state = 'pinned', since = ?, accepted_by = ?
              WHERE server = ? AND command = ? AND tool = ?
              """, arguments: [at, by, pin.server, pin.command, pin.tool])
        }
        return drifted
      }
    }
  }
}
