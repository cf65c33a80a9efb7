import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Writes whole messages to one file descriptor from several threads, one message at a time.
///
/// Once a write fails (the reader went away) or the writer is closed, further writes are dropped and
/// return false: the relay learns of the peer's end through its own channels.
final class LockedWriter: Sendable {
  private struct State {
    var descriptor: Int32
    var open = true
  }

  private let state: Mutex<State>

  init(descriptor: Int32) {
    state = Mutex(State(descriptor: descriptor))
  }

  /// Writes all of `bytes`; returns false if the descriptor is closed or broken.
  @discardableResult
  func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
    state.withLock { state in
      guard state.open else { return false }
      if Self.writeAll(state.descriptor, bytes) { return true }
      state.open = false
      return false
    }
  }

  @discardableResult
  func write(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { write($0) }
  }

  /// Writes several pieces as one message, so no other writer can come between them.
  @discardableResult
  func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> Bool {
    state.withLock { state in
      guard state.open else { return false }
      if Self.writeAll(state.descriptor, first) && Self.writeAll(state.descriptor, second) { return true }
      state.open = false
      return false
    }
  }

  var isOpen: Bool { state.withLock { $0.open } }

  /// Closes the descriptor; the reader sees end of file.
  func close() {
    state.withLock { state in
      guard state.open || state.descriptor >= 0 else { return }
      state.open = false
      if state.descriptor >= 0 {
        _ = Glibc.close(state.descriptor)
        state.descriptor = -1
      }
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
