import WardenCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The MCP server warden runs: a child process whose stdin and stdout are pipes to warden and whose
/// stderr is warden's own.
final class ChildProcess: Sendable {
  let pid: pid_t
  /// Warden's end of the child's stdin.
  let input: Int32
  /// Warden's end of the child's stdout.
  let output: Int32

  private init(pid: pid_t, input: Int32, output: Int32) {
    self.pid = pid
    self.input = input
    self.output = output
  }

  /// glibc's `POSIX_SPAWN_SETSID` (2.26 and later), which Swift does not import as a macro.
  private static let spawnSetSID: Int32 = 0x80

  /// Starts `command` (looked up on PATH) in warden's working directory, with warden's environment
  /// less warden's own variables (`WARDEN_*`, which say where the store is) except those in `keep`.
  ///
  /// The child gets default signal dispositions and an empty signal mask whatever warden set for
  /// itself, and its own session: no controlling terminal, and its own process group.
  static func spawn(_ command: [String], keep: Set<String> = []) throws(SystemError) -> ChildProcess {
    precondition(!command.isEmpty, "a command is required")
    let toChild = try Pipe()
    let fromChild = try Pipe()
    toChild.enlarge(to: 1 << 20)
    fromChild.enlarge(to: 1 << 20)

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, toChild.readEnd, 0)
    posix_spawn_file_actions_adddup2(&actions, fromChild.writeEnd, 1)

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var emptyMask = sigset_t()
    sigemptyset(&emptyMask)
    posix_spawnattr_setsigmask(&attributes, &emptyMask)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    // Its own session, so no controlling terminal: it cannot prompt the human's terminal or pass
    // for a human at one (approving needs a terminal). A session is also a process group, so a
    // terminal's Ctrl-C reaches it once, through warden.
    posix_spawnattr_setflags(
      &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | Self.spawnSetSID))

    var arguments: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
    defer { for argument in arguments { free(argument) } }
    var environment: [UnsafeMutablePointer<CChar>?] =
      childEnvironment(keep: keep).map { entry in entry.withUnsafeBufferPointer { strdup($0.baseAddress!) } }
      + [nil]
    defer { for variable in environment { free(variable) } }
    var pid: pid_t = 0
    let result = posix_spawnp(&pid, command[0], &actions, &attributes, &arguments, &environment)
    _ = close(toChild.readEnd)
    _ = close(fromChild.writeEnd)
    guard result == 0 else {
      _ = close(toChild.writeEnd)
      _ = close(fromChild.readEnd)
      throw SystemError("posix_spawnp", code: result)
    }
    return ChildProcess(pid: pid, input: toChild.writeEnd, output: fromChild.readEnd)
  }

  /// Warden's environment, byte for byte, without `WARDEN_*` variables other than `keep`.
  static func childEnvironment(keep: Set<String>) -> [[CChar]] {
    var entries: [[CChar]] = []
    var cursor = environ
    while let entry = cursor.pointee {
      cursor += 1
      let bytes = Array(UnsafeBufferPointer(start: entry, count: strlen(entry) + 1))
      if strncmp(entry, "WARDEN_", 7) == 0 {
        let name = String(
          decoding: bytes.prefix { $0 != 0x3D && $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard keep.contains(name) else { continue }
      }
      entries.append(bytes)
    }
    return entries
  }

  /// Sends `signal` to the child's process group (the child and what it started).
  func send(_ signal: Int32) {
    if kill(-pid, signal) != 0 { _ = kill(pid, signal) }
  }

  /// Blocks until the child exits; reaps it.
  func waitForExit() -> ServerExit {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
      if errno != EINTR { return .exited(status: 255) }
    }
    let signal = status & 0x7F
    if signal == 0 { return .exited(status: (status >> 8) & 0xFF) }
    return .killed(signal: signal)
  }
}
