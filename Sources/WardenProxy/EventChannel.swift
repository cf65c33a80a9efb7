import Synchronization
import WardenCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A queue from the pumps, the reaper and the signal thread to the coordinating thread, which waits
/// on it with a deadline.
final class EventChannel: Sendable {
  private let events = Mutex<[LifecycleEvent]>([])
  private let wakeRead: Int32
  private let wakeWrite: Int32

  init() throws(SystemError) {
    let pipe = try Pipe()
    wakeRead = pipe.readEnd
    wakeWrite = pipe.writeEnd
    _ = fcntl(wakeRead, F_SETFL, O_NONBLOCK)
    _ = fcntl(wakeWrite, F_SETFL, O_NONBLOCK)
  }

  func post(_ event: LifecycleEvent) {
    events.withLock { $0.append(event) }
    var byte: UInt8 = 1
    _ = write(wakeWrite, &byte, 1)
  }

  /// Waits until an event arrives or `deadline` (monotonic seconds) passes; nil on timeout.
  func next(deadline: Double?) -> LifecycleEvent? {
    while true {
      if let event = events.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return event }
      var timeout: Int32 = -1
      if let deadline {
        let remaining = deadline - monotonicSeconds()
        if remaining <= 0 { return nil }
        timeout = Int32(min(remaining * 1000 + 1, 60_000))
      }
      var poller = pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)
      _ = poll(&poller, 1, timeout)
      var sink = [UInt8](repeating: 0, count: 64)
      while read(wakeRead, &sink, sink.count) > 0 {}
    }
  }
}
