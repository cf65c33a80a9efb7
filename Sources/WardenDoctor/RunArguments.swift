import WardenManifest

/// The options of a `warden run` command line found in an agent's configuration, read the way the
/// argument parser reads them (`--server=NAME` and `--server NAME`), and the server's command after
/// `--`. Only what doctor checks is kept; other options are skipped with their values.
public struct RunArguments: Sendable, Equatable {
  public var server: String?
  public var options = LaunchOptions()
  /// The server's command line, after `--`.
  public var command: [String] = []

  /// The options that take a value; every other `--` option is a flag.
  static let valued: Set<String> = [
    "--server", "--manifest", "--mode", "--ungranted", "--agent", "--context", "--confirm-timeout",
    "--max-message", "--grace", "--log-level",
  ]

  /// Reads `arguments` (warden's, `run` first); nil when they are not `warden run ... -- COMMAND`.
  public static func parse(_ arguments: [String]) -> RunArguments? {
    guard arguments.first == "run", let terminator = arguments.firstIndex(of: "--"),
      terminator + 1 < arguments.count
    else { return nil }
    var result = RunArguments()
    result.command = Array(arguments[(terminator + 1)...])
    var index = 1
    while index < terminator {
      let argument = arguments[index]
      index += 1
      var name = argument
      var value: String?
      if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
        name = String(argument[..<equals])
        value = String(argument[argument.index(after: equals)...])
      }
      guard valued.contains(name) else { continue }
      if value == nil, index < terminator {
        value = arguments[index]
        index += 1
      }
      guard let value else { continue }
      switch name {
      case "--server": result.server = value
      case "--manifest": result.options.manifest = value
      case "--agent": result.options.agent = value
      case "--mode": result.options.mode = WardenConfiguration.Mode(rawValue: value)
      case "--ungranted": result.options.ungranted = WardenConfiguration.Ungranted(rawValue: value)
      case "--context":
        if let equals = value.firstIndex(of: "=") {
          result.options.context[String(value[..<equals])] = String(value[value.index(after: equals)...])
        }
      default: break
      }
    }
    return result
  }
}

/// `text` quoted for a POSIX shell when it needs it, so a fix can be pasted as it is.
func shellWord(_ text: String) -> String {
  let plain =
    !text.isEmpty
    && text.unicodeScalars.allSatisfy {
      ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
        || "@%_+=:,./-".unicodeScalars.contains($0)
    }
  return plain
    ? text
    : "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
}
