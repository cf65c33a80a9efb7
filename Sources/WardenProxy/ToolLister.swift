import WardenCore
import WardenJSON

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Why a server's tools could not be listed: one line for the user.
public struct ToolListingError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}

/// Starts a server, reads its tools in the era it speaks (`ToolListing`), and stops it: the I/O of
/// `warden manifest init`. The server's stderr is kept aside and shown when the listing fails.
public enum ToolLister {
  /// How long the discover probe waits alone before `initialize` is sent beside it.
  static let probeDelay = 3.0
  /// Shutdown: how long the server gets after its stdin closes, then after SIGTERM.
  static let grace = 2.0
  /// A line longer than this is no tools/list a person could review.
  static let maximumLine = 64 << 20

  /// The tools `command` lists, and the era it answered in; fails when it cannot start, does not
  /// answer within `timeout` seconds (all attempts together), or errs.
  public static func list(command: [String], timeout: Double, clientVersion: String) throws(ToolListingError)
    -> (tools: [JSON], era: ToolListing.Era)
  {
    // A server that exits while warden writes to it must not kill warden with SIGPIPE.
    signal(SIGPIPE, SIG_IGN)
    let deadline = monotonicSeconds() + timeout
    var machine = ToolListing(clientVersion: clientVersion)
    let captured = CapturedStandardError()
    while true {
      let child: ChildProcess
      do throws(SystemError) {
        if let captured {
          child = try captured.redirecting { () throws(SystemError) in try ChildProcess.spawn(command) }
        } else {
          child = try ChildProcess.spawn(command)
        }
      } catch {
        throw ToolListingError(
          message: "cannot start '\(command[0])': \(SystemError.message(for: error.code))")
      }
      let outcome = converse(child: child, machine: &machine, deadline: deadline, timeout: timeout)
      stop(child)
      switch outcome {
      case .restart: continue
      case .done(.success(let listing)): return listing
      case .done(.failure(var failure)):
        let lines = captured?.lastLines(stderrLines) ?? []
        if !lines.isEmpty {
          failure.message +=
            "\nthe server's stderr ended with:\n" + lines.map { "  | " + $0 }.joined(separator: "\n")
        }
        throw failure
      }
    }
  }

  /// How many of the server's last stderr lines a failure shows.
  static let stderrLines = 20

  private enum Outcome {
    case restart
    case done(Result<(tools: [JSON], era: ToolListing.Era), ToolListingError>)
  }

  /// One child's conversation, until the machine finishes, fails or asks for a restart.
  private static func converse(
    child: ChildProcess, machine: inout ToolListing, deadline: Double, timeout: Double
  )
    -> Outcome
  {
    let probeAt = monotonicSeconds() + probeDelay
    var pending: [UInt8] = []
    var actions = machine.started()
    while true {
      for action in actions {
        switch action {
        case .send(let line):
          // A failed write shows as the end of the server's stdout soon after.
          _ = writeAll(child.input, line)
        case .restart: return .restart
        case .finished(let tools, let era): return .done(.success((tools, era)))
        case .failed(let reason): return .done(.failure(ToolListingError(message: reason)))
        }
      }
      actions = []
      let now = monotonicSeconds()
      if now >= deadline {
        let seconds = timeout == timeout.rounded() ? String(Int(timeout)) : String(timeout)
        return .done(
          .failure(
            ToolListingError(message: "the server did not list its tools within \(seconds) s (--timeout)")))
      }
      if machine.isProbing, now >= probeAt {
        actions = machine.probeExpired()
        continue
      }
      let wake = machine.isProbing ? min(deadline, probeAt) : deadline
      var descriptor = pollfd(fd: child.output, events: Int16(POLLIN), revents: 0)
      let ready = poll(&descriptor, 1, Int32(max(1, min((wake - now) * 1000, 60_000))))
      if ready < 0, errno != EINTR {
        return .done(
          .failure(ToolListingError(message: "cannot read the server's output: \(SystemError("poll"))")))
      }
      guard ready > 0 else { continue }
      var buffer = [UInt8](repeating: 0, count: 65_536)
      let count = buffer.withUnsafeMutableBytes { read(child.output, $0.baseAddress, $0.count) }
      if count < 0 {
        if errno == EINTR || errno == EAGAIN { continue }
        actions = machine.serverClosed()
        continue
      }
      if count == 0 {
        actions = machine.serverClosed()
        continue
      }
      pending += buffer[0..<count]
      while let newline = pending.firstIndex(of: 0x0A) {
        var line = Array(pending[..<newline])
        pending.removeSubrange(...newline)
        if line.last == 0x0D { line.removeLast() }
        actions += machine.received(line)
      }
      if pending.count > maximumLine {
        return .done(.failure(ToolListingError(message: "the server sent a line longer than 64 MiB")))
      }
    }
  }

  /// Closes the server's stdin, waits, then SIGTERM, waits, then SIGKILL; reaps it.
  private static func stop(_ child: ChildProcess) {
    _ = close(child.input)
    defer { _ = close(child.output) }
    if exited(child, within: grace) { return }
    child.send(SIGTERM)
    if exited(child, within: grace) { return }
    child.send(SIGKILL)
    _ = child.waitForExit()
  }

  private static func exited(_ child: ChildProcess, within seconds: Double) -> Bool {
    let end = monotonicSeconds() + seconds
    var status: Int32 = 0
    while true {
      let result = waitpid(child.pid, &status, WNOHANG)
      if result == child.pid || (result < 0 && errno != EINTR) { return true }
      if monotonicSeconds() >= end { return false }
      usleep(20_000)
    }
  }

  private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
      if written < 0, errno == EINTR { continue }
      if written <= 0 { return false }
      offset += written
    }
    return true
  }
}
