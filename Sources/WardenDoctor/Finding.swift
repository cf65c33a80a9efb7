/// How much a finding matters: `problem` fails the check (exit 1), `warning` does not.
public enum Severity: String, Sendable, Equatable, Comparable, CaseIterable {
  case ok
  case warning
  case problem

  public static func < (left: Severity, right: Severity) -> Bool {
    allCases.firstIndex(of: left)! < allCases.firstIndex(of: right)!
  }
}

/// One thing `warden doctor` found: which check, how much it matters, one line saying what and why,
/// and the exact fix (a command or config lines), with the file, server or path it is about.
public struct Finding: Sendable, Equatable {
  /// The check's stable name (`home`, `store`, `same-user`, `manifest`, ...).
  public var check: String
  public var severity: Severity
  /// One line: what was found and what follows from it.
  public var message: String
  /// The command to run or the config lines to add; nil when there is nothing to do.
  public var fix: String?
  /// The agent configuration it is about.
  public var config: String?
  /// The server (its key in the agent configuration) it is about.
  public var server: String?
  /// The file or directory it is about.
  public var path: String?

  public init(
    _ check: String, _ severity: Severity, _ message: String, fix: String? = nil, config: String? = nil,
    server: String? = nil, path: String? = nil
  ) {
    self.check = check
    self.severity = severity
    self.message = message
    self.fix = fix
    self.config = config
    self.server = server
    self.path = path
  }
}

/// Every finding of one run of `warden doctor`, and the exit status they make.
public struct DoctorReport: Sendable, Equatable {
  public var home: String
  public var user: String
  public var findings: [Finding]

  public init(home: String, user: String, findings: [Finding]) {
    self.home = home
    self.user = user
    self.findings = findings
  }

  /// 0 no problem (warnings allowed), 1 at least one problem.
  public var exitStatus: Int32 { findings.contains { $0.severity == .problem } ? 1 : 0 }

  public func count(_ severity: Severity) -> Int { findings.filter { $0.severity == severity }.count }
}
