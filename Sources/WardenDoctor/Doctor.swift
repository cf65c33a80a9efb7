import WardenCore
import WardenJSON
import WardenManifest

/// `warden doctor`'s checks: a pure function from what was gathered about a deployment to findings.
public enum Doctor {
  /// Every finding, in the order of the checks: home and store, who can approve, the agents'
  /// configurations.
  public static func report(_ facts: DeploymentFacts) -> DoctorReport {
    var findings = HomeChecks.findings(facts)
    findings += TrustChecks.findings(facts)
    findings += ServerChecks.findings(facts)
    return DoctorReport(home: facts.home, user: facts.userName, findings: findings)
  }

  /// The manifest files the configurations' wrapped servers and config.yaml name, which the caller
  /// loads into `DeploymentFacts.manifestFiles` (and checks for `writableManifests`).
  public static func manifestFiles(
    of configs: [AgentConfigFacts], configuration: WardenConfiguration, home: String
  ) -> Set<String> {
    var runs: [RunArguments] = []
    for config in configs {
      guard case .read(_, let servers) = config.state else { continue }
      for server in servers where server.behindWarden {
        if let run = RunArguments.parse(Array(server.commandLine.dropFirst())) { runs.append(run) }
      }
    }
    return ManifestResolution.files(of: runs, configuration: configuration, home: home)
  }
}

extension DoctorReport {
  /// One finding a line (`severity  check: message`), its fix indented below, then the totals.
  /// Everything from files is escaped: a server name in an agent's configuration is the agent's text.
  public var text: String {
    var lines: [String] = []
    for finding in findings {
      let label = finding.severity.rawValue.padding(to: 8)
      lines.append("\(label) \(finding.check): \(HumanText.escaped(finding.message))")
      if let fix = finding.fix {
        for (index, line) in fix.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
          lines.append((index == 0 ? "         fix: " : "              ") + HumanText.escaped(String(line)))
        }
      }
    }
    lines.append(
      "\(count(.problem)) problem(s), \(count(.warning)) warning(s), \(count(.ok)) ok")
    return lines.joined(separator: "\n")
  }

  /// `{"home", "user", "status", "summary": {"ok", "warning", "problem"}, "findings": [{"check",
  /// "severity", "message", "fix", "config", "server", "path"}]}`; absent values are null.
  public var json: String {
    func optional(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null() }
    let items = findings.map { finding in
      JSONValue.object([
        ("check", .string(finding.check)), ("severity", .string(finding.severity.rawValue)),
        ("message", .string(finding.message)), ("fix", optional(finding.fix)),
        ("config", optional(finding.config)),
        ("server", optional(finding.server)), ("path", optional(finding.path)),
      ])
    }
    return JSONValue.object([
      ("home", .string(home)), ("user", .string(user)), ("status", .integer(Int64(exitStatus))),
      (
        "summary",
        .object([
          ("ok", .integer(Int64(count(.ok)))), ("warning", .integer(Int64(count(.warning)))),
          ("problem", .integer(Int64(count(.problem)))),
        ])
      ),
      ("findings", .array(items)),
    ]).text(pretty: true)
  }
}

extension String {
  fileprivate func padding(to width: Int) -> String {
    self + String(repeating: " ", count: max(0, width - count))
  }
}
