// libFuzzer target: LineFramer (Sources/WardenProxy/LineFramer.swift), compiled into this module.
//
// The bytes go through a real pipe, written in chunks the input chooses, and are read back the way
// Pump does (read, drain, ..., finish), so that lines split across reads, buffer growth, compaction,
// shrinking and oversized lines all get exercised with the framer's own read path.
//
// Input layout:
//   byte 0      maxLine: 0...239 as is, 240...255 as (n - 239) * 4096 (beyond the 4 KiB prefix kept)
//   byte 1      initialCapacity: 255 is the production default (256 KiB), else (n + 1) KiB: small
//               buffers exercise growth, compaction and shrinking with small inputs (below 1 KiB,
//               discarding a long line takes a read per few bytes and the run crawls)
//   then chunks, one write each:
//     h < 0x80  the next h bytes
//     h >= 0x80 the next byte repeated (h & 0x7F) * 256 times (big lines from small inputs; under
//               64 KiB, so the write into an empty pipe never blocks)
//
// Checked: every byte written is accounted for exactly once, in order (a line's raw bytes, or an
// oversized line's length plus its newline); no line holds a newline or exceeds maxLine; an
// oversized line is longer than maxLine and its prefix is its first bytes (at least maxLine + 1 of
// them, at most 4 KiB); once the pipe is empty, every complete line written so far has been
// reported; lines handed out by one drain still hold their bytes when the drain returns (Pump
// writes them after it).

#if canImport(Glibc)
  import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 2 else { return 0 }
  let input = UnsafeBufferPointer(start: data, count: size)
  let maxLine = input[0] < 240 ? Int(input[0]) : Int(input[0] - 239) * 4096
  let initialCapacity = input[1] == 255 ? 256 * 1024 : (Int(input[1]) + 1) * 1024

  var chunks: [[UInt8]] = []
  var total = 0
  var index = 2
  // At most 1 MiB in all: enough to outgrow the 256 KiB production buffer, and cheap enough that
  // inputs full of repeat chunks do not slow the whole run down.
  while index < size, total < 1 << 20 {
    let header = input[index]
    index += 1
    if header < 0x80 {
      let count = min(Int(header), size - index)
      chunks.append(Array(input[index..<(index + count)]))
      index += count
    } else {
      guard index < size else { break }
      chunks.append([UInt8](repeating: input[index], count: Int(header & 0x7F) * 256))
      index += 1
    }
    total += chunks[chunks.count - 1].count
  }

  var fds: [Int32] = [0, 0]
  guard pipe(&fds) == 0 else { fatalError("pipe: \(errno)") }
  defer { close(fds[0]) }
  let framer = LineFramer(maxLine: maxLine, initialCapacity: initialCapacity)
  var check = FramerCheck(maxLine: maxLine)

  for chunk in chunks where !chunk.isEmpty {
    writeAll(fds[1], chunk)
    check.written(chunk)
    while isReadable(fds[0]) {
      let result = framer.read(from: fds[0])
      guard result == .data else { fatalError("read gave \(result) with data in the pipe") }
      framer.drain { check.take($0, atEnd: false) }
      check.drainReturned()
    }
    check.expectCaughtUp()
  }
  close(fds[1])
  let last = framer.read(from: fds[0])
  guard last == .endOfFile else { fatalError("read gave \(last) on a closed, empty pipe") }
  framer.finish { check.take($0, atEnd: true) }
  check.expectAllAccounted()
  return 0
}

private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
  bytes.withUnsafeBytes { raw in
    var done = 0
    while done < raw.count {
      let count = write(fd, raw.baseAddress! + done, raw.count - done)
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { fatalError("write: \(errno)") }
      done += count
    }
  }
}

/// Data waiting in the pipe (poll, so that the harness never blocks in the framer's read).
private func isReadable(_ fd: Int32) -> Bool {
  var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
  return poll(&poller, 1, 0) > 0 && poller.revents & Int16(POLLIN) != 0
}

/// The harness is instrumented too: byte loops go through libc, or they would dominate the run time.
private func lastNewline(_ bytes: [UInt8]) -> Int? {
  bytes.withUnsafeBytes { raw in
    var last: Int?
    var from = 0
    while from < raw.count, let found = memchr(raw.baseAddress! + from, 0x0A, raw.count - from) {
      last = raw.baseAddress!.distance(to: UnsafeRawPointer(found))
      from = last! + 1
    }
    return last
  }
}

/// Replays the framer's events against the bytes written.
private struct FramerCheck {
  let maxLine: Int
  /// Everything written to the pipe so far.
  var stream: [UInt8] = []
  /// Bytes of `stream` accounted for by events so far.
  var offset = 0
  /// Offset just past the last newline written.
  var completeLines = 0
  /// Lines handed out by the current drain, with where their bytes lie in `stream`.
  var handedOut: [(raw: UnsafeRawBufferPointer, range: Range<Int>)] = []

  init(maxLine: Int) { self.maxLine = maxLine }

  mutating func written(_ chunk: [UInt8]) {
    if let newline = lastNewline(chunk) { completeLines = stream.count + newline + 1 }
    stream += chunk
  }

  mutating func take(_ event: LineFramer.Event, atEnd: Bool) {
    switch event {
    case .line(let content, let raw):
      expect(content.count <= maxLine, "a line of \(content.count) bytes passed maxLine \(maxLine)")
      expect(content.isEmpty || memchr(content.baseAddress!, 0x0A, content.count) == nil, "a line holds a newline")
      expect(raw.baseAddress == content.baseAddress, "raw and content start apart")
      if atEnd {
        expect(raw.count == content.count, "the unterminated last line has a terminator")
        expect(offset + raw.count == stream.count, "the last line does not end the stream")
      } else {
        expect(raw.count == content.count + 1 && raw.last == 0x0A, "a drained line lacks its newline")
      }
      let range = offset..<(offset + raw.count)
      expect(range.upperBound <= stream.count, "a line reaches past the bytes written")
      expect(streamHolds(raw, at: offset), "line bytes differ from the stream at offset \(offset)")
      handedOut.append((raw, range))
      offset = range.upperBound
    case .oversized(let prefix, let length):
      expect(length > maxLine, "oversized length \(length) within maxLine \(maxLine)")
      // The prefix is taken when the line first passes maxLine, so it may be shorter than 4 KiB.
      expect(
        (min(maxLine + 1, 4096)...min(length, 4096)).contains(prefix.count),
        "oversized prefix of \(prefix.count) bytes for length \(length)")
      expect(offset + length <= stream.count, "an oversized line reaches past the bytes written")
      expect(prefix.withUnsafeBytes { streamHolds($0, at: offset) }, "oversized prefix differs")
      expect(
        stream.withUnsafeBytes { memchr($0.baseAddress! + offset, 0x0A, length) == nil },
        "an oversized line spans a newline")
      if atEnd {
        expect(offset + length == stream.count, "the last oversized line does not end the stream")
        offset += length
      } else {
        expect(offset + length < stream.count && stream[offset + length] == 0x0A, "oversized not at a newline")
        offset += length + 1
      }
    }
  }

  /// Pump writes a run of forwarded lines after `drain` returns: their bytes must still be there.
  mutating func drainReturned() {
    for (raw, range) in handedOut {
      expect(streamHolds(raw, at: range.lowerBound), "a line's bytes changed before the drain returned")
    }
    handedOut = []
  }

  func expectCaughtUp() {
    expect(offset == completeLines, "\(completeLines - offset) bytes of complete lines not reported")
  }

  func expectAllAccounted() {
    expect(offset == stream.count, "accounted for \(offset) of \(stream.count) bytes")
  }

  private func streamHolds(_ bytes: UnsafeRawBufferPointer, at start: Int) -> Bool {
    guard bytes.count > 0 else { return true }
    return stream.withUnsafeBytes { memcmp($0.baseAddress! + start, bytes.baseAddress!, bytes.count) == 0 }
  }

  private func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("framer invariant: \(message())") }
  }
}
