import Synchronization
import WardenJSON

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A running session's audit journal: `<home>/audit-journal/<session>.log`, one line `N<TAB>RECORD` per
/// record, appended with one `write` before the record's call goes on. The chain in the store is
/// written from it in batches (one transaction for everything that came meanwhile), each transaction
/// also noting the number of the last record it took (`audit_journal.committed`).
///
/// Why: a record must be durable before its call is forwarded, and one SQLite commit per call cost
/// more than everything else warden does for a call. A line handed to the kernel survives a crash of
/// warden just as a commit with `synchronous = NORMAL` does (neither survives a power loss), for the
/// price of one system call. A session that ends normally leaves no journal; one that was killed
/// leaves its file, which the next `warden run`, `warden audit` or `warden status` folds into the
/// chain (`GrantStore.recoverAuditJournals`). The session holds an exclusive `flock` on its file for
/// as long as it runs, and the lock goes with the process, however it ends: that is how a recovery
/// tells a journal still being written from one left behind.
public final class AuditJournal: Sendable {
  private struct State {
    var descriptor: Int32
    /// The number the next record gets.
    var next: Int64 = 1
    /// The file's length.
    var size: Int = 0
  }

  public let session: String
  public let path: String
  private let state: Mutex<State>
  /// An emptied journal is not worth the truncation below this length.
  static let truncateAbove = 1 << 20

  public static func directory(home: String) -> String { (home == "/" ? "" : home) + "/audit-journal" }

  /// Creates the session's journal, locked before it has its name, so no recovery ever takes it for
  /// one left behind.
  public init(home: String, session: String) throws(StoreError) {
    guard !session.isEmpty, session.utf8.allSatisfy({ $0 != 0x2F && $0 != 0 }), !session.hasPrefix(".") else {
      throw StoreError(.invalid, "'\(session)' cannot name an audit journal")
    }
    let directory = Self.directory(home: home)
    if mkdir(directory, 0o700) != 0, errno != EEXIST {
      throw Self.systemError("cannot make \(directory)")
    }
    self.session = session
    path = directory + "/" + session + ".log"
    let temporary = directory + "/" + session + ".new"
    let descriptor = open(temporary, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { throw Self.systemError("cannot create \(temporary)") }
    guard flock(descriptor, LOCK_EX) == 0, rename(temporary, path) == 0 else {
      let error = Self.systemError("cannot set up the audit journal \(path)")
      _ = close(descriptor)
      _ = unlink(temporary)
      throw error
    }
    state = Mutex(State(descriptor: descriptor))
  }

  deinit {
    state.withLock { if $0.descriptor >= 0 { _ = close($0.descriptor) } }
  }

  /// Appends `records` with one `write`, numbered on from the last; returns the last number. Throws
  /// when they could not all be written; then the file is as it was.
  @discardableResult
  public func append(_ records: [AuditRecord]) throws(StoreError) -> Int64 {
    try state.withLock { (state: inout State) throws(StoreError) -> Int64 in
      guard state.descriptor >= 0 else { throw StoreError(.io, "the audit journal \(path) is closed") }
      var bytes: [UInt8] = []
      var number = state.next
      for record in records {
        bytes += String(number).utf8
        bytes.append(0x09)
        bytes += record.fields.bytes
        bytes.append(0x0A)
        number += 1
      }
      var written = 0
      while written < bytes.count {
        let count = bytes.withUnsafeBytes {
          write(state.descriptor, $0.baseAddress! + written, $0.count - written)
        }
        if count < 0, errno == EINTR { continue }
        guard count > 0 else {
          let error = Self.systemError("cannot write the audit journal \(path)")
          // A torn line would be read back as garbage: take back what was written.
          _ = ftruncate(state.descriptor, off_t(state.size))
          throw error
        }
        written += count
      }
      state.size += bytes.count
      state.next = number
      return number - 1
    }
  }

  /// Every record through `number` is in the chain. When that is every record written, a long file
  /// is emptied (under the lock `append` takes, so no line is lost): the numbers go on, so the
  /// store's `committed` still tells which lines a recovery must take.
  public func committed(through number: Int64) {
    state.withLock { state in
      guard state.descriptor >= 0, number == state.next - 1, state.size > Self.truncateAbove else { return }
      if ftruncate(state.descriptor, 0) == 0 { state.size = 0 }
    }
  }

  /// The session ended with every record in the chain: the journal goes.
  public func remove() {
    state.withLock { state in
      guard state.descriptor >= 0 else { return }
      _ = unlink(path)
      _ = close(state.descriptor)
      state.descriptor = -1
    }
  }

  static func systemError(_ what: String) -> StoreError {
    let code = errno
    let reason = strerror(code).map { String(cString: $0) } ?? "error \(code)"
    return StoreError(.io, "\(what): \(reason)")
  }

  /// The lines of a journal's text: each number and its record's fields; a line that is not one
  /// (the last, torn by a crash in the middle of a write) ends the reading.
  static func lines(_ bytes: [UInt8]) -> [(number: Int64, fields: [UInt8])] {
    var lines: [(Int64, [UInt8])] = []
    var start = 0
    while let end = bytes[start...].firstIndex(of: 0x0A) {
      let line = bytes[start..<end]
      guard let tab = line.firstIndex(of: 0x09),
        let number = Int64(String(decoding: line[line.startIndex..<tab], as: UTF8.self)), number > 0
      else { break }
      lines.append((number, Array(line[(tab + 1)...])))
      start = end + 1
    }
    return lines
  }
}
