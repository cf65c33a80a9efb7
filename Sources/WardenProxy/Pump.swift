import WardenJSON

/// What becomes of one line.
enum Admission {
  /// Forward the line exactly as received.
  case forward
  /// The handler dealt with it (answered, dropped or consumed it).
  case handled
  /// Forward these bytes instead (a complete line with its terminator).
  case replace([UInt8])
}

/// Decides, line by line, what crosses in one direction.
protocol LineHandler: AnyObject {
  /// The scanner belongs to the pump's thread (a local there, so no runtime exclusivity checks).
  func admit(_ line: UnsafeRawBufferPointer, scanner: inout MessageScanner) -> Admission
  /// A line longer than the limit was discarded.
  func rejectOversized(prefix: [UInt8], length: Int)
}

/// Moves lines from a source descriptor to a destination in one direction, asking a handler about
/// each. Consecutive forwarded lines leave in one write, straight from the read buffer.
final class Pump: @unchecked Sendable {
  // Unchecked: after `run()` starts, the framer and handler are used by the pump's thread only.
  private let source: Int32
  private let framer: LineFramer
  private let destination: LockedWriter
  private let handler: any LineHandler
  private let onDestinationFailure: @Sendable () -> Void
  /// When set, a last line the source ended in the middle of is not a message: it is dropped and
  /// reported here with its length (the server's side: a server that dies mid-answer has not
  /// answered, and its requests get `-32098` from the relay). When nil it is judged like any line
  /// (the client's side: SDK readers take an unterminated last line as a message).
  private let onUnterminatedLastLine: (@Sendable (Int) -> Void)?
  private var destinationFailed = false

  init(
    source: Int32, maxLine: Int, destination: LockedWriter, handler: any LineHandler,
    onDestinationFailure: @escaping @Sendable () -> Void,
    onUnterminatedLastLine: (@Sendable (Int) -> Void)? = nil
  ) {
    self.onUnterminatedLastLine = onUnterminatedLastLine
    self.source = source
    framer = LineFramer(maxLine: maxLine)
    self.destination = destination
    self.handler = handler
    self.onDestinationFailure = onDestinationFailure
  }

  /// Relays until the source ends; returns how it ended.
  func run() -> LineFramer.ReadResult {
    var scanner = MessageScanner()
    while true {
      let result = framer.read(from: source)
      guard result == .data else {
        framer.finish { event in
          switch event {
          case .line(let content, _):
            if let onUnterminatedLastLine {
              onUnterminatedLastLine(content.count)
              return
            }
            switch handler.admit(content, scanner: &scanner) {
            case .forward: send(content, addingNewline: true)
            case .replace(let bytes): bytes.withUnsafeBytes { send($0) }
            case .handled: break
            }
          case .oversized(let prefix, let length):
            handler.rejectOversized(prefix: prefix, length: length)
          }
        }
        return result
      }
      var run: UnsafeRawBufferPointer?
      framer.drain { event in
        switch event {
        case .line(let content, let raw):
          switch handler.admit(content, scanner: &scanner) {
          case .forward:
            if let pending = run, pending.baseAddress! + pending.count == raw.baseAddress! {
              run = UnsafeRawBufferPointer(start: pending.baseAddress, count: pending.count + raw.count)
            } else {
              if let pending = run { send(pending) }
              run = raw
            }
          case .handled:
            // Keep order with whatever the handler wrote instead of this line.
            if let pending = run { send(pending) }
            run = nil
          case .replace(let bytes):
            if let pending = run { send(pending) }
            run = nil
            bytes.withUnsafeBytes { send($0) }
          }
        case .oversized(let prefix, let length):
          if let pending = run { send(pending) }
          run = nil
          handler.rejectOversized(prefix: prefix, length: length)
        }
      }
      if let pending = run { send(pending) }
    }
  }

  private func send(_ bytes: UnsafeRawBufferPointer, addingNewline: Bool = false) {
    let delivered: Bool
    if addingNewline {
      delivered = withUnsafeBytes(of: UInt8(0x0A)) { destination.write(bytes, $0) }
    } else {
      delivered = destination.write(bytes)
    }
    if !delivered && !destinationFailed {
      destinationFailed = true
      onDestinationFailure()
    }
  }
}
