import Logging
import WardenCore
import WardenJSON

/// Judges each line the server sends: valid messages go to the client; anything else is dropped, and
/// a request it was meant to answer gets an error instead.
final class ServerSide: LineHandler {
  private let session: SharedSession
  private let client: LockedWriter
  private let server: LockedWriter
  private let logger: Logger
  private let maxLine: Int
  private let amender: ResultAmender?
  private let agent: @Sendable () -> String

  init(
    session: SharedSession, client: LockedWriter, server: LockedWriter, logger: Logger, maxLine: Int,
    amender: ResultAmender?, agent: @escaping @Sendable () -> String
  ) {
    self.session = session
    self.client = client
    self.server = server
    self.logger = logger
    self.maxLine = maxLine
    self.amender = amender
    self.agent = agent
  }

  func admit(_ line: UnsafeRawBufferPointer, scanner: inout MessageScanner) -> Admission {
    switch scanner.scan(line) {
    case .blank:
      return .handled
    case .defect(let defect):
      logger.warning("dropped a line from the server: \(defect.detail)")
      reject(
        id: defect.id ?? MessageScanner.peekID(line), problem: defect.detail,
        reason: defect.kind == .embeddedLineBreak ? defect.reason : "invalid-server-message")
      return .handled
    case .message(let envelope):
      switch session.withLock({ $0.admitFromServer(envelope) }) {
      case .forward:
        return .forward
      case .forwardResponse(let method):
        if let amender, Self.amendedMethods.contains(method),
          let amended = amender.amend(method: method, line: line, envelope: envelope, agent: agent())
        {
          return .replace(amended)
        }
        return .forward
      case .answerServer(let response):
        logger.warning("refused a request from the server: \(response.message)")
        server.write(response.line)
        return .handled
      }
    }
  }

  private static let amendedMethods: Set<String> = ["tools/list", "initialize", "server/discover"]

  func rejectOversized(prefix: [UInt8], length: Int) {
    logger.warning("dropped a line of \(length) bytes from the server: over --max-message \(maxLine)")
    let id = prefix.withUnsafeBytes { MessageScanner.peekID($0) }
    reject(id: id, problem: "\(length) bytes, over the limit of \(maxLine) (--max-message)")
  }

  private func reject(id: RequestID?, problem: String, reason: String = "invalid-server-message") {
    if let response = session.withLock({ $0.rejectServerLine(id: id, problem: problem, reason: reason) }) {
      client.write(response.line)
    }
  }
}
