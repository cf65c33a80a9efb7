#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A server's stderr kept in an unlinked temporary file instead of shown: `warden manifest init`
/// shows it only when the listing fails. Servers on older SDKs log pages of warnings about the
/// `server/discover` probe, which would bury the draft's own messages.
///
/// A file, not a pipe: nothing has to drain it while the child runs, so it cannot fill and stall the
/// server.
final class CapturedStandardError {
  private let descriptor: Int32

  /// A new, empty capture; nil when no temporary file can be made (stderr is then passed through).
  init?() {
    let directory =
      getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "/tmp"
    var template = Array((directory + "/warden-server-stderr-XXXXXX").utf8CString)
    let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard descriptor >= 0 else { return nil }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
    self.descriptor = descriptor
  }

  deinit { close(descriptor) }

  /// Runs `spawn` with this file as stderr, so the child it starts inherits it; warden's own
  /// stderr is back when it returns (warden is single-threaded here, so none of its messages is lost).
  func redirecting<Child>(_ spawn: () throws(SystemError) -> Child) throws(SystemError) -> Child {
    let saved = dup(2)
    guard saved >= 0, dup2(descriptor, 2) >= 0 else {
      if saved >= 0 { close(saved) }
      return try spawn()
    }
    defer {
      _ = dup2(saved, 2)
      close(saved)
    }
    return try spawn()
  }

  /// The last `count` lines written (of the last 64 KiB), controls dropped, for a message.
  func lastLines(_ count: Int) -> [String] {
    let size = lseek(descriptor, 0, SEEK_END)
    guard size > 0 else { return [] }
    let length = Int(min(size, 65_536))
    var buffer = [UInt8](repeating: 0, count: length)
    let read = buffer.withUnsafeMutableBytes {
      pread(descriptor, $0.baseAddress, length, size - off_t(length))
    }
    guard read > 0 else { return [] }
    let text = String(decoding: buffer[0..<read], as: UTF8.self)
    let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map { line in
      String(String.UnicodeScalarView(line.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
    }
    return Array(lines.filter { !$0.isEmpty }.suffix(count))
  }
}
