#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Splits a byte stream read from a descriptor into lines, never holding more than one line beyond
/// the limit: a longer line is discarded as it streams in and reported once its end arrives.
///
/// Line bytes handed to the caller point into the framer's buffer and stay valid until the next
/// `read(from:)`. Confined to one thread.
final class LineFramer {
  enum Event {
    /// A complete line: `content` without the terminator, `raw` with it (or without, at end of input).
    case line(content: UnsafeRawBufferPointer, raw: UnsafeRawBufferPointer)
    /// A line longer than the limit, with its first bytes (to try to read its id) and total length.
    case oversized(prefix: [UInt8], length: Int)
  }

  enum ReadResult: Equatable {
    case data
    case endOfFile
    case failed(Int32)
  }

  let maxLine: Int
  private let initialCapacity: Int
  private var buffer: UnsafeMutableRawPointer
  private var capacity: Int
  private var start = 0  // first byte of the current line
  private var end = 0  // end of buffered data
  private var searched = 0  // bytes after `start` known to hold no newline
  private var discarding = false
  private var discardedLength = 0
  private var discardedPrefix: [UInt8] = []
  /// Lines left before a buffer grown for a large line is given back; big messages tend to come in
  /// runs (a client paging through results), and a kept buffer saves its page faults.
  private var linesBeforeShrinking = 0
  private static let prefixKept = 4096
  private static let minimumRead = 64 * 1024
  private static let smallLinesBeforeShrinking = 32

  init(maxLine: Int, initialCapacity: Int = 256 * 1024) {
    self.maxLine = maxLine
    self.initialCapacity = initialCapacity
    capacity = initialCapacity
    // malloc'ed, so that growing a large buffer can be a realloc (which remaps pages, no copy).
    buffer = malloc(initialCapacity)!
  }

  deinit { free(buffer) }

  /// Reads whatever is available (blocking until something is).
  func read(from descriptor: Int32) -> ReadResult {
    makeRoom()
    while true {
      let count = Glibc.read(descriptor, buffer + end, capacity - end)
      if count > 0 {
        end += count
        return .data
      }
      if count == 0 { return .endOfFile }
      if errno == EINTR { continue }
      if errno == EAGAIN || errno == EWOULDBLOCK {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&poller, 1, -1)
        continue
      }
      return .failed(errno)
    }
  }

  /// Reports every complete line buffered so far, in order.
  func drain(_ body: (Event) -> Void) {
    while start < end || discarding {
      if discarding {
        guard let newline = findNewline(from: start) else {
          discardedLength += end - start
          start = 0
          end = 0
          return
        }
        discardedLength += newline - start
        discarding = false
        start = newline + 1
        body(.oversized(prefix: discardedPrefix, length: discardedLength))
        discardedPrefix = []
        continue
      }
      guard let newline = findNewline(from: start + searched) else {
        searched = end - start
        if searched > maxLine {
          discarding = true
          discardedLength = searched
          let prefix = UnsafeRawBufferPointer(start: buffer + start, count: min(searched, Self.prefixKept))
          discardedPrefix = Array(prefix)
          start = 0
          end = 0
          searched = 0
        }
        return
      }
      let lineStart = start
      start = newline + 1
      searched = 0
      let length = newline - lineStart
      if length > initialCapacity {
        linesBeforeShrinking = Self.smallLinesBeforeShrinking
      } else if linesBeforeShrinking > 0 {
        linesBeforeShrinking -= 1
      }
      if length > maxLine {
        let prefix = UnsafeRawBufferPointer(start: buffer + lineStart, count: min(length, Self.prefixKept))
        body(.oversized(prefix: Array(prefix), length: length))
      } else {
        body(
          .line(
            content: UnsafeRawBufferPointer(start: buffer + lineStart, count: length),
            raw: UnsafeRawBufferPointer(start: buffer + lineStart, count: length + 1)))
      }
    }
  }

  /// At end of input: reports an unterminated last line, if any.
  func finish(_ body: (Event) -> Void) {
    if discarding {
      discarding = false
      body(.oversized(prefix: discardedPrefix, length: discardedLength + end - start))
    } else if end > start {
      let content = UnsafeRawBufferPointer(start: buffer + start, count: end - start)
      if content.count > maxLine {
        body(.oversized(prefix: Array(content.prefix(Self.prefixKept)), length: content.count))
      } else {
        body(.line(content: content, raw: content))
      }
    }
    start = 0
    end = 0
    searched = 0
  }

  private func findNewline(from offset: Int) -> Int? {
    guard offset < end, let found = memchr(buffer + offset, 0x0A, end - offset) else { return nil }
    return buffer.distance(to: found)
  }

  /// Makes space for the next read: reuse, compact, grow, or give back memory after a large line.
  private func makeRoom() {
    if start == end {
      start = 0
      end = 0
      searched = 0
    }
    let pending = end - start
    if capacity > 4 * initialCapacity && pending <= initialCapacity / 2 && linesBeforeShrinking == 0 {
      replaceBuffer(capacity: initialCapacity)
      return
    }
    guard capacity - end < Self.minimumRead else { return }
    if start > 0 {
      memmove(buffer, buffer + start, pending)
      start = 0
      end = pending
    }
    if capacity - end < Self.minimumRead {
      replaceBuffer(capacity: capacity * 2)
    }
  }

  private func replaceBuffer(capacity newCapacity: Int) {
    let pending = end - start
    if start > 0 {
      memmove(buffer, buffer + start, pending)
      start = 0
      end = pending
    }
    guard let resized = realloc(buffer, newCapacity) else {
      fatalError("out of memory growing a line buffer to \(newCapacity) bytes")
    }
    buffer = resized
    capacity = newCapacity
  }
}
