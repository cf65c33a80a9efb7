import Glibc
import Synchronization
import Testing

@testable import WardenProxy

/// Several threads writing to one pipe: every message arrives whole and in each thread's order,
/// and a writer blocked on a full pipe does not block the others' hand-over.
@Suite("Writing whole messages from several threads")
struct LockedWriterTests {
  static func pipePair() -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    _ = pipe(&fds)
    return (fds[0], fds[1])
  }

  @Test func messagesFromManyThreadsArriveWholeAndInOrder() throws {
    let (readEnd, writeEnd) = Self.pipePair()
    let writer = LockedWriter(descriptor: writeEnd)
    let threads = 8
    let perThread = 200
    // Large messages (over PIPE_BUF) would interleave if two threads wrote at once.
    let payload = String(repeating: "x", count: 10_000)
    let reading = Background()
    reading.start {
      var received: [UInt8] = []
      var buffer = [UInt8](repeating: 0, count: 65536)
      while true {
        let count = read(readEnd, &buffer, buffer.count)
        if count <= 0 { break }
        received += buffer[0..<count]
      }
      return received
    }
    let writing = Background()
    for thread in 0..<threads {
      writing.start {
        for index in 0..<perThread {
          writer.write(Array("\(thread) \(index) \(payload)\n".utf8))
        }
        return []
      }
    }
    _ = writing.wait()
    writer.flush()
    writer.close()
    let lines = String(decoding: reading.wait(), as: UTF8.self).split(separator: "\n")
    #expect(lines.count == threads * perThread)
    var next = [Int](repeating: 0, count: threads)
    for line in lines {
      let parts = line.split(separator: " ")
      #expect(parts.count == 3 && parts[2].count == payload.count)
      let thread = Int(parts[0])!
      #expect(Int(parts[1]) == next[thread])
      next[thread] += 1
    }
    close(readEnd)
  }

  @Test func aCloseDuringABlockedWriteWaitsForIt() throws {
    let (readEnd, writeEnd) = Self.pipePair()
    let writer = LockedWriter(descriptor: writeEnd)
    // Fill the pipe from one thread (it blocks), then hand a message over and close.
    let big = [UInt8](repeating: 0x61, count: 1 << 20)
    let blocked = Background()
    blocked.start { writer.write(big) ? [1] : [0] }
    usleep(100_000)
    #expect(writer.write(Array("queued\n".utf8)))  // handed over, not blocked
    writer.close()
    #expect(!writer.write(Array("late\n".utf8)))
    // Drain: the blocked write completes, then the descriptor closes (end of file), the queued
    // message dropped by the close.
    var total = 0
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = read(readEnd, &buffer, buffer.count)
      if count <= 0 { break }
      total += count
    }
    #expect(blocked.wait() == [1])
    #expect(total == big.count)
    close(readEnd)
  }
}

/// Work on detached threads (warden's own `startThread`), waited for with a counter.
final class Background: Sendable {
  private let state = Mutex<(running: Int, bytes: [UInt8], flag: Bool)>((0, [], false))

  /// Starts `body`; its returned bytes (if any) are kept for `wait()`.
  func start(_ body: @escaping @Sendable () -> [UInt8]) {
    state.withLock { $0.running += 1 }
    startThread { [self] in
      let bytes = body()
      state.withLock {
        $0.running -= 1
        $0.bytes += bytes
      }
    }
  }

  /// Waits for every started body; returns the bytes they returned.
  func wait() -> [UInt8] {
    while state.withLock({ $0.running > 0 }) { usleep(1000) }
    return state.withLock { $0.bytes }
  }
}
