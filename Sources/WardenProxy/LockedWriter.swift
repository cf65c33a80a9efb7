import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Writes whole messages to one file descriptor from several threads, one message at a time, in
/// the order they were handed over, without holding a lock across a blocking `write`.
///
/// Whoever finds the descriptor idle becomes its writer: it writes its own bytes straight from the
/// caller's buffer (no copy on the common path), then every message other threads queued meanwhile,
/// and only then gives the descriptor up. A thread that finds a writer busy copies its message into
/// the queue and returns at once, so a slow peer blocks only the thread that is writing to it (the
/// pump, which is the backpressure we want), never a thread that merely has something to say.
///
/// Once a write fails (the reader went away) or the writer is closed, further messages are dropped
/// and `write` returns false: the relay learns of the peer's end through its own channels. A close
/// while a write is in progress is carried out by the writer when that write returns, so the
/// descriptor is never closed (and its number reused) under a write.
final class LockedWriter: Sendable {
  private struct State {
    var descriptor: Int32
    var open = true
    /// A thread is writing, outside the lock.
    var writing = false
    /// `close()` came while a thread was writing; that thread closes when it is done.
    var closePending = false
    var queue: [[UInt8]] = []
  }

  private let state: Mutex<State>

  init(descriptor: Int32) {
    state = Mutex(State(descriptor: descriptor))
  }

  /// Writes all of `bytes`, or queues them behind the write in progress; returns false if the
  /// descriptor is closed or broken.
  @discardableResult
  func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
    write(bytes, UnsafeRawBufferPointer(start: nil, count: 0))
  }

  @discardableResult
  func write(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { write($0) }
  }

  /// Writes several pieces as one message, so no other message can come between them.
  @discardableResult
  func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> Bool {
    let descriptor: Int32? = state.withLock { state in
      guard state.open else { return nil }
      if state.writing {
        state.queue.append(Array(first) + Array(second))
        return -1
      }
      state.writing = true
      return state.descriptor
    }
    guard let descriptor else { return false }
    guard descriptor >= 0 else { return true }  // queued behind the writer in progress
    return drain(descriptor, delivered: Self.writeAll(descriptor, first) && Self.writeAll(descriptor, second))
  }

  /// Hands `bytes` over without ever waiting for the peer: queued behind the write in progress, or,
  /// when the descriptor is idle, written by a thread of its own. For threads that serve deadlines,
  /// decisions and shutdown, which must not stall on a peer that stopped reading. What is queued
  /// this way is bounded by what warden holds (a held call's line, an answer per request).
  @discardableResult
  func send(_ bytes: [UInt8]) -> Bool {
    let descriptor: Int32? = state.withLock { state in
      guard state.open else { return nil }
      if state.writing {
        state.queue.append(bytes)
        return -1
      }
      state.writing = true
      return state.descriptor
    }
    guard let descriptor else { return false }
    guard descriptor >= 0 else { return true }
    startThread {
      _ = bytes.withUnsafeBytes { self.drain(descriptor, delivered: Self.writeAll(descriptor, $0)) }
    }
    return true
  }

  /// As the writer, after its own message: writes every message queued meanwhile, then gives the
  /// descriptor up (closing it if asked to, or marking it broken after a failed write).
  private func drain(_ descriptor: Int32, delivered first: Bool) -> Bool {
    var delivered = first
    while true {
      let next: [UInt8]? = state.withLock { state in
        if !delivered || state.closePending {
          Self.finishClosing(&state, failed: !delivered)
          return nil
        }
        guard !state.queue.isEmpty else {
          state.writing = false
          return nil
        }
        return state.queue.removeFirst()
      }
      guard let next else { return delivered }
      delivered = next.withUnsafeBytes { Self.writeAll(descriptor, $0) }
    }
  }

  var isOpen: Bool { state.withLock { $0.open } }

  /// Waits until every queued message is written (or dropped because the peer is gone), for at most
  /// `seconds`: a peer that stopped reading must not keep warden from exiting.
  func flush(within seconds: Double = .infinity) {
    var waited = 0.0
    while state.withLock({ $0.writing }), waited < seconds {
      usleep(1000)
      waited += 0.001
    }
  }

  /// Closes the descriptor (now, or when the write in progress returns); the reader sees end of
  /// file. Queued messages are dropped.
  func close() {
    state.withLock { state in
      state.open = false
      state.queue.removeAll()
      if state.writing {
        state.closePending = true
      } else if state.descriptor >= 0 {
        _ = Glibc.close(state.descriptor)
        state.descriptor = -1
      }
    }
  }

  /// With the lock held, by the writing thread: stop writing; close if asked to, or on failure
  /// mark the writer broken (the descriptor stays open until `close()`).
  private static func finishClosing(_ state: inout State, failed: Bool) {
    state.writing = false
    state.queue.removeAll()
    if failed { state.open = false }
    if state.closePending, state.descriptor >= 0 {
      _ = Glibc.close(state.descriptor)
      state.descriptor = -1
      state.closePending = false
    }
  }

  private static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    guard var pointer = bytes.baseAddress else { return true }
    var remaining = bytes.count
    while remaining > 0 {
      let written = Glibc.write(descriptor, pointer, remaining)
      if written > 0 {
        pointer += written
        remaining -= written
      } else if written < 0 && errno == EINTR {
        continue
      } else if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
        // The peer made the pipe non-blocking; wait until it drains.
        var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        _ = poll(&poller, 1, -1)
      } else {
        return false
      }
    }
    return true
  }
}
