import Testing
import WardenCore

@Suite("Shutdown sequence")
struct ShutdownTests {
  @Test func clientLeavesAndTheServerExitsOnItsOwn() {
    var shutdown = Shutdown(grace: 2)
    #expect(shutdown.handle(.clientClosed, now: 10) == [.closeServerInput])
    #expect(shutdown.deadline == 12)
    #expect(shutdown.handle(.serverOutputClosed, now: 10.1) == [])
    #expect(shutdown.handle(.serverExited(.exited(status: 0)), now: 10.2) == [])
    #expect(shutdown.isComplete)
    #expect(shutdown.exitStatus == 0)
  }

  @Test func aServerThatLingersIsTerminatedThenKilled() {
    var shutdown = Shutdown(grace: 1)
    _ = shutdown.handle(.clientClosed, now: 0)
    #expect(shutdown.handle(nil, now: 0.5) == [])
    #expect(shutdown.handle(nil, now: 1) == [.signalServer(15)])
    #expect(shutdown.handle(nil, now: 2) == [.signalServer(9)])
    _ = shutdown.handle(.serverOutputClosed, now: 2.01)
    _ = shutdown.handle(.serverExited(.killed(signal: 9)), now: 2.02)
    #expect(shutdown.isComplete)
    // Warden ended it because the client had left: a clean shutdown.
    #expect(shutdown.exitStatus == 0)
  }

  @Test func aCrashReportsTheServersStatus() {
    var shutdown = Shutdown(grace: 1)
    _ = shutdown.handle(.serverExited(.exited(status: 3)), now: 0)
    #expect(!shutdown.isComplete)
    _ = shutdown.handle(.serverOutputClosed, now: 0.1)
    #expect(shutdown.isComplete)
    #expect(shutdown.exitStatus == 3)
    var killed = Shutdown(grace: 1)
    _ = killed.handle(.serverOutputClosed, now: 0)
    _ = killed.handle(.serverExited(.killed(signal: 9)), now: 0)
    #expect(killed.exitStatus == 137)
  }

  @Test func signalsArePassedOnAndTheirEffectReported() {
    var shutdown = Shutdown(grace: 1)
    #expect(shutdown.handle(.signal(2), now: 0) == [.signalServer(2)])
    _ = shutdown.handle(.serverExited(.killed(signal: 2)), now: 0.1)
    _ = shutdown.handle(.serverOutputClosed, now: 0.1)
    #expect(shutdown.exitStatus == 130)
    #expect(shutdown.handle(.signal(15), now: 0.2) == [])
  }

  @Test func anOutputHeldOpenByAGrandchildIsAbandoned() {
    var shutdown = Shutdown(grace: 1)
    _ = shutdown.handle(.serverExited(.exited(status: 0)), now: 0)
    #expect(shutdown.deadline == 1)
    #expect(shutdown.handle(nil, now: 1) == [.abandonServerOutput])
    #expect(shutdown.isComplete)
  }

  @Test func aServerThatClosesItsOutputIsGivenGraceThenStopped() {
    var shutdown = Shutdown(grace: 1)
    _ = shutdown.handle(.serverOutputClosed, now: 0)
    #expect(shutdown.handle(nil, now: 1) == [.signalServer(15)])
    _ = shutdown.handle(.serverExited(.killed(signal: 15)), now: 1.1)
    #expect(shutdown.isComplete)
    #expect(shutdown.exitStatus == 0)
  }

  /// Issue 14, finding 6: the pump cannot see the client's end while it waits on a server that
  /// stopped reading; a hang-up seen from outside ends the session within the grace periods.
  @Test func aHangUpTheStuckPumpCannotSeeEndsTheSessionAfterGrace() {
    var shutdown = Shutdown(grace: 2)
    #expect(shutdown.handle(.clientHungUp, now: 0).isEmpty)
    #expect(shutdown.handle(nil, now: 1).isEmpty)
    #expect(shutdown.handle(nil, now: 2) == [.closeServerInput, .signalServer(Shutdown.sigterm)])
    #expect(shutdown.handle(nil, now: 4) == [.signalServer(Shutdown.sigkill)])
    _ = shutdown.handle(.serverExited(.killed(signal: 9)), now: 4.1)
    _ = shutdown.handle(.serverOutputClosed, now: 4.1)
    #expect(shutdown.isComplete)
    #expect(shutdown.exitStatus == 0)
  }

  @Test func aHangUpFollowedByThePumpsOwnEndIsAnOrdinaryClose() {
    var shutdown = Shutdown(grace: 2)
    _ = shutdown.handle(.clientHungUp, now: 0)
    #expect(shutdown.handle(.clientClosed, now: 0.1) == [.closeServerInput])
    // The ordinary escalation: SIGTERM a grace period after the close.
    #expect(shutdown.handle(nil, now: 2.0).isEmpty)
    #expect(shutdown.handle(nil, now: 2.1) == [.signalServer(Shutdown.sigterm)])
  }
}
