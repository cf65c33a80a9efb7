/// How the server's process ended, as reported to the agent and in warden's exit status.
public enum ServerExit: Sendable, Equatable, CustomStringConvertible {
  case exited(status: Int32)
  case killed(signal: Int32)

  public var description: String {
    switch self {
    case .exited(let status): return "the server exited with status \(status)"
    case .killed(let signal): return "the server was killed by signal \(signal) (\(Self.signalName(signal)))"
    }
  }

  /// The conventional shell status for this ending: the exit status, or 128 + the signal number.
  public var shellStatus: Int32 {
    switch self {
    case .exited(let status): return status
    case .killed(let signal): return 128 + signal
    }
  }

  public static func signalName(_ signal: Int32) -> String {
    let names: [Int32: String] = [
      1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
      9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
    ]
    return names[signal] ?? "signal \(signal)"
  }
}
