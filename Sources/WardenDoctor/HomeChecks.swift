/// Checks of warden's home and the store in it: owner, mode, and whether the store opens with a
/// schema this warden knows.
enum HomeChecks {
  static func findings(_ facts: DeploymentFacts) -> [Finding] {
    let home = facts.homeFile
    let shown = shellWord(facts.home)
    switch home.kind {
    case .missing:
      return [
        Finding(
          "home", .warning,
          "warden's home \(facts.home) does not exist yet: nothing is delegated; the first warden command creates it (mode 0700)",
          fix: "warden grants", path: facts.home)
      ]
    case .regularFile, .other:
      return [
        Finding(
          "home", .problem, "warden's home \(facts.home) is not a directory: every tool call is denied",
          fix: "move it away, or set WARDEN_HOME to a directory of yours", path: facts.home)
      ]
    case .directory: break
    }
    guard home.ownerID == facts.userID else {
      return [
        Finding(
          "home", .problem,
          "warden's home \(facts.home) belongs to uid \(home.ownerID), not to you (uid \(facts.userID)): warden refuses it",
          fix: "run warden as its owner, or set WARDEN_HOME to a directory of yours", path: facts.home)
      ]
    }
    var findings: [Finding] = []
    if home.mode & 0o077 != 0 {
      findings.append(
        Finding(
          "home", .problem,
          "warden's home \(facts.home) has mode \(octal(home.mode)): other users can reach the delegations, so warden refuses it (or, when others can only read it and it holds only warden's files, sets it to 0700 on its next command)",
          fix: "chmod 700 \(shown)", path: facts.home))
    } else {
      let link = home.isSymbolicLink ? " (through a symbolic link)" : ""
      findings.append(
        Finding(
          "home", .ok, "warden's home \(facts.home)\(link) is yours, mode \(octal(home.mode))",
          path: facts.home))
    }
    findings += entries(facts)
    if let shared = facts.sharedStore {
      findings += sharedStore(shared)
    } else {
      findings.append(store(facts))
    }
    return findings
  }

  /// Each of warden's files: this user's, and open to no one else. The store and the audit head hold
  /// what must stay private (approval codes, the audit key), so others reading them is a problem;
  /// config.yaml and the folders are guarded by the home's 0700, so that is a warning.
  private static func entries(_ facts: DeploymentFacts) -> [Finding] {
    var findings: [Finding] = []
    for entry in facts.homeEntries where entry.kind != .missing {
      let name = entry.path.split(separator: "/").last.map(String.init) ?? entry.path
      let shown = shellWord(entry.path)
      let isDirectory = entry.kind == .directory
      let privateMode = isDirectory ? "700" : "600"
      if entry.ownerID != facts.userID {
        findings.append(
          Finding(
            "permissions", .problem,
            "\(entry.path) belongs to uid \(entry.ownerID), not to you: whoever owns it can change what warden reads",
            fix: "check what it holds, then: chown \(facts.userName) \(shown)", path: entry.path))
      } else if entry.mode & 0o022 != 0 {
        findings.append(
          Finding(
            "permissions", .problem,
            "\(entry.path) has mode \(octal(entry.mode)): other users can write it",
            fix: "chmod \(privateMode) \(shown)", path: entry.path))
      } else if entry.mode & 0o044 != 0 {
        let secret = name.hasPrefix("warden.db") || name == "audit.head"
        findings.append(
          Finding(
            "permissions", secret ? .problem : .warning,
            "\(entry.path) has mode \(octal(entry.mode)): other users could read it if the home were opened"
              + (secret ? " (it holds approval codes and the audit trail)" : ""),
            fix: "chmod \(privateMode) \(shown)", path: entry.path))
      }
    }
    return findings
  }

  /// A team's PostgreSQL store: reachable with its credentials, its schema this warden's, and pinned
  /// in config.yaml rather than chosen by the environment.
  static func sharedStore(_ shared: SharedStoreFacts) -> [Finding] {
    let location = shared.location
    var findings: [Finding] = []
    switch shared.state {
    case .current(let version):
      findings.append(
        Finding(
          "store", .ok, "\(location) answers; its schema is current (version \(version))", path: location))
    case .empty:
      findings.append(
        Finding(
          "store", .problem, "\(location) has no warden schema yet: every tool call is denied",
          fix: "warden store migrate (with a role that owns the schema)", path: location))
    case .outdated(let missing):
      findings.append(
        Finding(
          "store", .problem,
          "\(location) lacks schema migration(s) \(missing.map(String.init).joined(separator: ", ")): this warden refuses it and denies every call",
          fix: "warden store migrate (with a role that owns the schema)", path: location))
    case .newer(let unknown):
      findings.append(
        Finding(
          "store", .problem,
          "\(location) was migrated by a newer warden (migration(s) \(unknown.map(String.init).joined(separator: ", "))): this warden refuses it and denies every call",
          fix: "install the newer warden", path: location))
    case .unavailable(let reason):
      findings.append(
        Finding(
          "store", .problem, "the store cannot be used: \(reason); every tool call is denied",
          fix: "check the URL, the password (WARDEN_STORE_PASSWORD_FILE or PGPASSWORD) and the server",
          path: location))
    }
    if shared.source == .environment {
      findings.append(
        Finding(
          "store-pin", .warning,
          "the store is chosen by WARDEN_STORE, which an agent's MCP configuration can set for its own warden",
          fix: "put store: \(location) in $WARDEN_HOME/config.yaml (it wins over WARDEN_STORE)",
          path: location))
    }
    return findings
  }

  private static func store(_ facts: DeploymentFacts) -> Finding {
    let path = facts.home + "/warden.db"
    switch facts.store {
    case .missing:
      return Finding(
        "store", .ok, "no store yet in \(facts.home): the first grant creates it (mode 0600)", path: path)
    case .current(let migrations):
      return Finding(
        "store", .ok, "\(path) opens read-only; its schema is current (\(migrations) migrations)", path: path)
    case .outdated(let missing):
      return Finding(
        "store", .warning,
        "\(path) was written by an older warden (missing migrations: \(missing.joined(separator: ", "))); the next warden command migrates it",
        fix: "warden grants", path: path)
    case .newer(let unknown):
      return Finding(
        "store", .problem,
        "\(path) was written by a newer warden (unknown migrations: \(unknown.joined(separator: ", "))): this warden refuses it and denies every call",
        fix: "install the newer warden", path: path)
    case .unreadable(let reason):
      return Finding(
        "store", .problem, "\(path) cannot be used: \(reason); every tool call is denied",
        fix:
          "move it aside (mv \(shellWord(path)) \(shellWord(path + ".broken"))) and issue the grants again",
        path: path)
    }
  }
}

/// `0o755` as `0755`.
func octal(_ mode: UInt32) -> String {
  let digits = String(mode & 0o7777, radix: 8)
  return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
