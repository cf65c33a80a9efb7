import WardenCore
import WardenStore

extension PostgresStore {
  /// Compares a server's tools with their pins, in one transaction serialized with every other
  /// change to the pins (see `GrantStore.observeTools` for the rules).
  public func observeTools(
    server: String, command: String, definitions: [(tool: String, definition: String)], pinNew: Bool,
    at: Int64
  ) throws(StoreError) -> (changes: [(tool: String, state: ToolPin.State)], pinnedFirst: Bool) {
    // This process sees its own change at its next call, before the notification comes back.
    defer { token.invalidate() }
    return try session.transaction("cannot compare the tools of server '\(server)' with their pins in \(url)")
    {
      (statements: Statements) throws(StoreError) -> ([(tool: String, state: ToolPin.State)], Bool) in
      try statements.lock("tool_pins")
      let rows = try statements.rows(
        "SELECT tool, pinned, observed, state FROM tool_pins WHERE server = $1 AND command = $2",
        binds(.text(server), .text(command))
      ) { (cells: Cells) throws(StoreError) in
        (try cells.text(0), try cells.optionalText(1), try cells.optionalText(2), try cells.text(3))
      }
      var known: [String: (pinned: String?, observed: String?, state: String)] = [:]
      for row in rows { known[row.0] = (row.1, row.2, row.3) }
      let first = known.isEmpty
      var changes: [(tool: String, state: ToolPin.State)] = []
      for (tool, definition) in definitions {
        guard let current = known[tool] else {
          let pin = first || pinNew
          try statements.execute(
            "INSERT INTO tool_pins (server, command, tool, pinned, observed, state, since)"
              + " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            binds(
              .text(server), .text(command), .text(tool), .text(pin ? definition : nil),
              .text(pin ? nil : definition), .text(pin ? "pinned" : "added"), .integer(at)))
          if !pin { changes.append((tool, .added)) }
          known[tool] = (pin ? definition : nil, pin ? nil : definition, pin ? "pinned" : "added")
          continue
        }
        if let pinned = current.pinned, pinned == definition {
          if current.state != "pinned" {
            try statements.execute(
              "UPDATE tool_pins SET observed = NULL, state = 'pinned', since = $1"
                + " WHERE server = $2 AND command = $3 AND tool = $4",
              binds(.integer(at), .text(server), .text(command), .text(tool)))
            changes.append((tool, .pinned))
          }
        } else if current.observed != definition {
          let state = current.pinned == nil ? "added" : "changed"
          try statements.execute(
            "UPDATE tool_pins SET observed = $1, state = $2, since = $3"
              + " WHERE server = $4 AND command = $5 AND tool = $6",
            binds(.text(definition), .text(state), .integer(at), .text(server), .text(command), .text(tool)))
          if current.state == "pinned" { changes.append((tool, state == "added" ? .added : .changed)) }
        }
      }
      return (changes, first && !definitions.isEmpty)
    }
  }

  public func toolPins(server: String?) throws(StoreError) -> [ToolPin] {
    try session.withConnection("cannot read the tool pins in \(url)") {
      (statements: Statements) throws(StoreError) in
      try statements.rows(
        "SELECT \(Self.pinColumns) FROM tool_pins WHERE $1::text IS NULL OR server = $1"
          + " ORDER BY server COLLATE \"C\", command COLLATE \"C\", tool COLLATE \"C\"",
        binds(.text(server)), Self.pin)
    }
  }

  public func driftedTools(server: String, command: String) throws(StoreError) -> [String: ToolPin.State] {
    let rows = try session.withConnection("cannot read the tool pins in \(url)") {
      (statements: Statements) throws(StoreError) -> [(String, String)] in
      try statements.rows(
        "SELECT tool, state FROM tool_pins WHERE server = $1 AND command = $2 AND state <> 'pinned'",
        binds(.text(server), .text(command))
      ) { (cells: Cells) throws(StoreError) in (try cells.text(0), try cells.text(1)) }
    }
    var drifted: [String: ToolPin.State] = [:]
    for (tool, state) in rows { drifted[tool] = ToolPin.State(rawValue: state) ?? .changed }
    return drifted
  }

  public func acceptTools(server: String, tool: String?, by: String, at: Int64) throws(StoreError)
    -> [ToolPin]
  {
    // This process sees its own change at its next call, before the notification comes back.
    defer { token.invalidate() }
    return try session.transaction("cannot accept tools in \(url)") {
      (statements: Statements) throws(StoreError) -> [ToolPin] in
      try statements.lock("tool_pins")
      let drifted = try statements.rows(
        "SELECT \(Self.pinColumns) FROM tool_pins WHERE server = $1 AND state <> 'pinned'"
          + " AND ($2::text IS NULL OR tool = $2) ORDER BY command COLLATE \"C\", tool COLLATE \"C\"",
        binds(.text(server), .text(tool)), Self.pin)
      for pin in drifted {
        try statements.execute(
          "UPDATE tool_pins SET pinned = observed, observed = NULL, state = 'pinned', since = $1,"
            + " accepted_by = $2 WHERE server = $3 AND command = $4 AND tool = $5",
          binds(.integer(at), .text(by), .text(pin.server), .text(pin.command), .text(pin.tool)))
      }
      return drifted
    }
  }

  private static let pinColumns = "server, command, tool, pinned, observed, state, since, accepted_by"

  private static func pin(_ cells: Cells) throws(StoreError) -> ToolPin {
    ToolPin(
      server: try cells.text(0), command: try cells.text(1), tool: try cells.text(2),
      pinned: try cells.optionalText(3), observed: try cells.optionalText(4),
      state: ToolPin.State(rawValue: try cells.text(5)) ?? .changed, since: try cells.integer(6),
      acceptedBy: try cells.optionalText(7))
  }
}
