import WardenManifest

/// Who can approve: the OS user that owns the store, and the confirmation channels configured.
enum TrustChecks {
  static func findings(_ facts: DeploymentFacts) -> [Finding] {
    var findings: [Finding] = []
    if let sameUser = sameUser(facts) { findings.append(sameUser) }
    let configPath = facts.home + "/config.yaml"
    switch facts.configuration {
    case .invalid(let reason):
      findings.append(
        Finding(
          "config", .problem, "\(reason): warden run and warden check stop with status 78",
          fix: "correct \(configPath) (see SPEC, \"Pinned server settings\" and \"Threat model\")",
          path: configPath))
    case .absent:
      findings.append(
        Finding(
          "config", .ok, "no \(configPath): the defaults apply (both channels, scripts may not approve)"))
    case .valid:
      findings.append(Finding("config", .ok, "\(configPath) is valid", path: configPath))
    }
    guard let configuration = facts.configuration.configuration else { return findings }
    findings += channels(configuration, facts: facts)
    return findings
  }

  /// SPEC's threat model: an agent with a shell as the store's OS user can approve its own calls.
  private static func sameUser(_ facts: DeploymentFacts) -> Finding? {
    guard facts.homeFile.kind == .directory, facts.homeFile.ownerID == facts.userID else { return nil }
    return Finding(
      "same-user", .warning,
      "warden's home belongs to you (\(facts.userName), uid \(facts.userID)): an agent with a shell running as \(facts.userName) can run `warden approve` on a pseudo-terminal (script, tmux), read the store (and so the approval codes) or write it, and so approve its own calls; only running the agent as another OS user makes the store and the channels safe from it (SPEC, \"Threat model: who can approve\"). The approval code and the terminal check stop a client that answers forms by itself and an agent running warden's commands through a shell tool's pipes; against a shell as \(facts.userName) they are a speed bump, not a wall",
      fix:
        "run the agent as another OS user, its MCP configuration starting warden as \(facts.userName) (e.g. sudo -u \(facts.userName) warden run ..., with a sudoers rule for exactly that), so it cannot reach \(facts.home) (0700); run servers that handle untrusted content as a user of their own (warden run --server NAME -- sudo -u mcp-NAME COMMAND); put shells and code runners behind a manifest that marks them destructive",
      path: facts.home)
  }

  private static func channels(_ configuration: WardenConfiguration, facts: DeploymentFacts) -> [Finding] {
    var findings: [Finding] = []
    let channels = configuration.confirmChannels
    if channels.isEmpty {
      findings.append(
        Finding(
          "channels", .warning,
          "confirm.channels is empty: no one can approve a held call, so every one is denied",
          fix: "confirm:\n  channels: [terminal]"))
    } else if configuration.trustsClientAnswers {
      findings.append(
        Finding(
          "channels", .warning,
          "confirm.channels lists elicitation: the agent's client approves with its answer alone, without the approval code, so a client that answers forms by itself approves every held call",
          fix:
            "confirm:\n  channels: [terminal]   # or drop the key: both channels, the form asking for the code"
        ))
    } else if channels.contains(.elicitation) {
      findings.append(
        Finding(
          "channels", .ok,
          "held calls are decided in the agent's form with the approval code (shown only on the desktop notice and by warden holds/confirm at a terminal) or with warden confirm"
        ))
    } else {
      findings.append(
        Finding(
          "channels", .ok, "held calls are decided only at a terminal (warden confirm, approve, reject)"))
    }
    if channels.contains(.terminal) {
      if facts.atTerminal {
        findings.append(
          Finding("terminal", .ok, "this is a terminal: warden confirm --watch can decide held calls here"))
      } else {
        findings.append(
          Finding(
            "terminal", .warning,
            "doctor is not at a terminal (standard input or controlling terminal missing): warden confirm and approve refuse to approve without one",
            fix: "run warden confirm --watch in a terminal window"))
      }
    }
    if configuration.allowsScripted {
      findings.append(
        Finding(
          "scripted", .warning,
          "scripted: allow lets grants, approvals and resets run without a terminal, so an agent's shell tool can issue them too",
          fix: "scripted: deny", path: facts.home + "/config.yaml"))
    }
    if let program = facts.notifySend {
      findings.append(
        Finding("notify-send", .ok, "\(program) announces each new hold on the desktop", path: program))
    } else {
      findings.append(
        Finding(
          "notify-send", .warning,
          "notify-send is not on the PATH: no desktop notice of new holds or tripped breakers, and the approval code is shown only by warden holds/confirm at a terminal",
          fix: "sudo apt-get install libnotify-bin"))
    }
    return findings
  }
}
