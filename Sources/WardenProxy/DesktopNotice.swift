import WardenCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Announces a new hold on the desktop with `notify-send`, where it exists. Best effort: a missing
/// program, no display, or a failure changes nothing else.
enum DesktopNotice {
  static func announce(_ hold: Hold) {
    guard let program = findOnPath("notify-send") else { return }
    let escape = HumanText.escaped
    let body =
      "\(escape(hold.agent)) wants \(escape(hold.tool)) on \(escape(hold.server)): \(escape(hold.action))"
      + (hold.resources.isEmpty ? "" : " on \(hold.resources.prefix(3).map(escape).joined(separator: ", "))")
      + ". Decide with: warden confirm (hold \(hold.id))"
      + (hold.approvalCode.map { ", or approve in the agent's form with the code \($0)" } ?? "")
    show(program, title: "warden: a tool call is waiting", body: body)
  }

  static func announce(_ trip: BreakerTrip) {
    guard let program = findOnPath("notify-send") else { return }
    let agent = HumanText.escaped(trip.agent)
    show(
      program, title: "warden: circuit breaker tripped",
      body:
        "agent \(agent): \(HumanText.escaped(trip.reason)); its calls are \(trip.then == .hold ? "held" : "denied") until you run: warden reset \(agent)"
    )
  }

  private static func show(_ program: String, title: String, body: String) {
    let arguments = [program, "--app-name=warden", "--urgency=critical", title, body]
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    // Its output must never reach warden's stdout, which carries the protocol.
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for argument in argv { free(argument) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, program, &actions, nil, &argv, environ) == 0 else { return }
    let child = pid
    startThread {
      var status: Int32 = 0
      _ = waitpid(child, &status, 0)
    }
  }

  private static func findOnPath(_ name: String) -> String? {
    guard let path = getenv("PATH") else { return nil }
    for directory in String(cString: path).split(separator: ":") {
      let candidate = "\(directory)/\(name)"
      if access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
  }
}
