import Glibc
import Testing
import WardenCore

@testable import WardenProxy

@Suite("Child processes")
struct ChildProcessTests {
  @Test func reportsTheExitStatus() throws {
    let child = try ChildProcess.spawn(["sh", "-c", "exit 3"])
    #expect(child.waitForExit() == .exited(status: 3))
  }

  @Test func reportsDeathBySignal() throws {
    let child = try ChildProcess.spawn(["sleep", "30"])
    child.send(SIGKILL)
    #expect(child.waitForExit() == .killed(signal: 9))
  }

  @Test func aMissingCommandFailsToStart() {
    #expect(throws: SystemError.self) { try ChildProcess.spawn(["warden-test-no-such-command"]) }
  }

  @Test func talksOverItsPipesWithDefaultSignals() throws {
    // SIGPIPE is ignored in warden; the child must get it back at its default, and an empty mask.
    let child = try ChildProcess.spawn([
      "sh", "-c", "read line; echo \"got $line\"; grep -E '^(SigIgn|SigBlk)' /proc/self/status",
    ])
    let message = Array("hello\n".utf8)
    _ = message.withUnsafeBytes { write(child.input, $0.baseAddress, $0.count) }
    close(child.input)
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = read(child.output, &buffer, buffer.count)
      if count <= 0 { break }
      output += buffer[0..<count]
    }
    close(child.output)
    #expect(child.waitForExit() == .exited(status: 0))
    let text = String(decoding: output, as: UTF8.self)
    #expect(text.hasPrefix("got hello\n"))
    #expect(text.contains("SigBlk:\t0000000000000000"))
  }
}
