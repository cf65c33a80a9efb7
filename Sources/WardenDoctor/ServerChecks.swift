import WardenManifest

/// Checks of the agents' MCP configurations: every server behind warden, a manifest for each, and no
/// loosening option that only the (agent-editable) command line gives.
enum ServerChecks {
  static func findings(_ facts: DeploymentFacts) -> [Finding] {
    var findings: [Finding] = []
    if facts.agentConfigs.isEmpty {
      findings.append(
        Finding(
          "agent-config", .warning,
          "warden wrap has recorded no agent configuration and none was given: no server is known to be behind warden",
          fix: "warden wrap   (lists the agents' configurations found), or: warden doctor CONFIG"))
    }
    for config in facts.agentConfigs {
      switch config.state {
      case .missing(let records):
        findings.append(
          Finding(
            "agent-config", .warning, "\(config.path) was wrapped by warden but is gone",
            fix: "rm " + records.map(shellWord).joined(separator: " "), config: config.path))
      case .unreadable(let reason):
        findings.append(
          Finding(
            "agent-config", .problem, "\(config.path) cannot be checked: \(reason)",
            fix: "give the agent with: warden doctor --agent AGENT \(shellWord(config.path))",
            config: config.path))
      case .read(let agent, let servers):
        if servers.isEmpty {
          findings.append(
            Finding("agent-config", .ok, "\(config.path) (\(agent)) has no MCP server", config: config.path))
        }
        for server in servers { findings += check(server, in: config.path, facts: facts) }
      }
    }
    return findings
  }

  static func check(_ server: ConfiguredServer, in config: String, facts: DeploymentFacts) -> [Finding] {
    let name = server.name
    if let remote = server.remote {
      return [
        Finding(
          "not-wrapped", .warning,
          "\(name) in \(config) is a remote server (\(remote)): warden relays stdio servers only, so its calls are not checked",
          config: config, server: name)
      ]
    }
    guard server.behindWarden else {
      return [
        Finding(
          "not-wrapped", .warning,
          "\(name) in \(config) is not behind warden: its tool calls reach the server unchecked",
          fix: "warden wrap \(shellWord(config))", config: config, server: name)
      ]
    }
    guard let run = RunArguments.parse(Array(server.commandLine.dropFirst())) else {
      return [
        Finding(
          "manifest", .problem,
          "\(name) in \(config) launches warden, but not as `warden run ... -- COMMAND`",
          fix: "warden unwrap \(shellWord(config)) && warden wrap \(shellWord(config))", config: config,
          server: name)
      ]
    }
    guard let configuration = facts.configuration.configuration else {
      return [
        Finding(
          "manifest", .problem,
          "\(name) in \(config) cannot start: warden run stops with 78 while $WARDEN_HOME/config.yaml is invalid",
          fix: "correct \(facts.home)/config.yaml", config: config, server: name)
      ]
    }
    let resolution = ManifestResolution.resolve(run, facts: facts, configuration: configuration)
    var findings = [manifestFinding(resolution, run: run, name: name, config: config)]
    findings += looseningFindings(run, resolution: resolution, name: name, config: config, facts: facts)
    return findings
  }

  private static func manifestFinding(
    _ resolution: ManifestResolution, run: RunArguments, name: String, config: String
  ) -> Finding {
    if let source = resolution.source {
      return Finding(
        "manifest", .ok,
        "\(name) in \(config) runs under \(source), its calls decided for instance '\(resolution.instance)'",
        config: config, server: name)
    }
    let instance = run.server ?? resolution.instance
    let initCommand =
      "warden manifest init --server \(shellWord(instance)) -- "
      + SecretRedaction.commandLine(run.command).map(shellWord).joined(separator: " ")
    return Finding(
      "manifest", .problem,
      "\(name) in \(config): \(resolution.failure ?? "no manifest"); warden denies every tool call of this server",
      fix: initCommand + "   (or start from an installed one: warden manifest show)", config: config,
      server: name)
  }

  /// Options that widen what gets through, given on the command line an agent may be able to edit
  /// and not pinned in config.yaml.
  private static func looseningFindings(
    _ run: RunArguments, resolution: ManifestResolution, name: String, config: String, facts: DeploymentFacts
  ) -> [Finding] {
    let pin = resolution.pin
    let pinName = resolution.pinName
    var findings: [Finding] = []
    func warn(_ option: String, _ what: String, key: String, value: String, before: String? = nil) {
      findings.append(
        Finding(
          "unpinned-option", .warning,
          "\(name) in \(config) runs with \(option) (\(what)) given only on its command line, which the agent may be able to edit, and not pinned in $WARDEN_HOME/config.yaml",
          fix: (before.map { $0 + "\n" } ?? "") + "servers:\n  \(yamlKey(pinName)):\n    \(key): \(value)",
          config: config, server: name))
    }
    if run.options.mode == .report, pin?.mode == nil {
      warn(
        "--mode report", "calls enforcement would deny or hold are forwarded", key: "mode",
        value: "report   # if you mean it; mode: enforce to turn it off")
    }
    if run.options.ungranted == .confirm, pin?.ungranted == nil {
      warn(
        "--ungranted confirm", "every ungranted call is held for a human instead of denied", key: "ungranted",
        value: "confirm   # if you mean it; ungranted: deny to turn it off")
    }
    if let manifest = run.options.manifest, pin?.manifest == nil,
      !isInside(manifest, facts.home), !manifest.hasPrefix("/") || facts.writableManifests.contains(manifest)
    {
      let why =
        manifest.hasPrefix("/")
        ? "a file you (and so an agent running as you) can change"
        : "a relative path, read from wherever the agent starts warden"
      // The file's name does not matter to warden (SPEC, "Which manifest"); keep it a plain one.
      let plainName = String(
        pinName.unicodeScalars.map {
          ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
            || "._-".unicodeScalars.contains($0)
            ? Character($0) : "_"
        })
      let file = "manifests/\(plainName).yaml"
      warn(
        "--manifest \(manifest)", why, key: "manifest", value: file,
        before:
          "mkdir -p \(shellWord(facts.home + "/manifests")) && cp \(shellWord(manifest)) \(shellWord(facts.home + "/" + file))"
          + "   # then in config.yaml:")
    }
    if let agent = run.options.agent, pin?.agent == nil {
      warn("--agent \(agent)", "who its calls are decided for", key: "agent", value: agent)
    }
    for (key, value) in run.options.context.sorted(by: { $0.key < $1.key }) where pin?.context[key] == nil {
      warn(
        "--context \(key)=\(value)", "the {ctx.\(key)} its manifest's actions and resources read",
        key: "context",
        value: "{\(yamlKey(key)): \(yamlKey(value))}")
    }
    return findings
  }

  private static func isInside(_ path: String, _ folder: String) -> Bool {
    path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
  }

  /// A key of `servers:` as YAML reads it back.
  static func yamlKey(_ name: String) -> String {
    let plain =
      !name.isEmpty && name.first != "-"
      && name.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
          || "._-".unicodeScalars.contains($0)
      }
    guard !plain else { return name }
    var quoted = "\""
    for scalar in name.unicodeScalars {
      switch scalar {
      case "\"": quoted += "\\\""
      case "\\": quoted += "\\\\"
      case let control where control.value < 0x20 || control.value == 0x7F:
        quoted += "\\x" + String(control.value, radix: 16).leftPadded(to: 2)
      default: quoted.unicodeScalars.append(scalar)
      }
    }
    return quoted + "\""
  }
}

extension String {
  fileprivate func leftPadded(to width: Int) -> String {
    String(repeating: "0", count: max(0, width - count)) + self
  }
}
