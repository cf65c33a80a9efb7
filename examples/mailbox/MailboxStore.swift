import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// One message, stored as `<folder>/<id>.json`.
struct Message: Codable, Sendable {
  var id: String
  var from: String
  var to: String
  var subject: String
  /// ISO 8601, UTC (`2026-11-24T09:30:00Z`), so string order is time order.
  var date: String
  var body: String
}

/// A failure the caller can fix; its text is shown to the model as the tool's error.
struct MailboxError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// The mailbox on disk: one subdirectory per folder, one JSON file per message.
///
/// Every folder name and message id is validated before it touches a path, so no argument can name a file
/// outside the mailbox directory. Files are written to a temporary name in the same directory and renamed
/// into place, so a reader never sees half a message.
struct MailboxStore: Sendable {
  static let standardFolders = ["inbox", "archive", "sent"]

  let root: URL
  /// The address `send_message` writes as the sender.
  let ownAddress: String

  init(root: URL, ownAddress: String) throws {
    self.root = root.standardizedFileURL
    self.ownAddress = ownAddress
    for folder in Self.standardFolders {
      try FileManager.default.createDirectory(at: folderURL(folder), withIntermediateDirectories: true)
    }
  }

  // MARK: Validation

  /// Folder names: 1 to 64 of `A-Z a-z 0-9 _ -`. No dots at all, so never `.`, `..` or a hidden name.
  static func validateFolder(_ name: String) throws {
    guard (1...64).contains(name.utf8.count),
      name.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
    else {
      throw MailboxError(
        "invalid folder name '\(name)': use 1 to 64 letters, digits, '_' or '-'")
    }
  }

  /// Message ids: 1 to 128 of `A-Z a-z 0-9 _ - .`, not starting with a dot (so never `.`, `..` or hidden).
  static func validateID(_ id: String) throws {
    guard (1...128).contains(id.utf8.count), id.utf8.first != UInt8(ascii: "."),
      id.utf8.allSatisfy({
        isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
      })
    else {
      throw MailboxError("invalid message id '\(id)'")
    }
  }

  private static func isAlphanumeric(_ byte: UInt8) -> Bool {
    (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
  }

  // MARK: Reading

  /// Folders that exist, standard ones first, then the rest by name.
  func folders() -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    let extra = names.filter { name in
      (try? Self.validateFolder(name)) != nil && !Self.standardFolders.contains(name)
        && isDirectory(root.appendingPathComponent(name))
    }
    return Self.standardFolders + extra.sorted()
  }

  /// Messages in `folder`, newest first.
  func messages(in folder: String) throws -> [Message] {
    try Self.validateFolder(folder)
    let directory = folderURL(folder)
    guard isDirectory(directory) else {
      throw MailboxError("no folder '\(folder)' (folders: \(folders().joined(separator: ", ")))")
    }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    let messages = names.compactMap { name -> Message? in
      guard name.hasSuffix(".json"), !name.hasPrefix(".") else { return nil }
      return load(directory.appendingPathComponent(name))
    }
    return messages.sorted { ($0.date, $0.id) > ($1.date, $1.id) }
  }

  /// The message with `id` and the folder holding it.
  func find(id: String) throws -> (message: Message, folder: String) {
    try Self.validateID(id)
    for folder in folders() {
      let file = messageURL(id: id, folder: folder)
      if FileManager.default.fileExists(atPath: file.path), let message = load(file) {
        return (message, folder)
      }
    }
    throw MailboxError("no message with id '\(id)'")
  }

  var isEmpty: Bool {
    folders().allSatisfy { ((try? messages(in: $0)) ?? []).isEmpty }
  }

  // MARK: Writing

  /// Moves message `id` into `folder`, creating the folder if needed. Returns the folder it came from.
  /// Moving a message into the folder it is already in changes nothing.
  @discardableResult
  func move(id: String, to folder: String) throws -> String {
    try Self.validateFolder(folder)
    let (_, current) = try find(id: id)
    if current == folder { return current }
    try FileManager.default.createDirectory(at: folderURL(folder), withIntermediateDirectories: true)
    try renameFile(messageURL(id: id, folder: current), to: messageURL(id: id, folder: folder))
    return current
  }

  /// Deletes message `id` for good. Returns the deleted message.
  @discardableResult
  func delete(id: String) throws -> Message {
    let (message, folder) = try find(id: id)
    try FileManager.default.removeItem(at: messageURL(id: id, folder: folder))
    return message
  }

  /// Stores a new message in `folder`.
  func add(_ message: Message, to folder: String) throws {
    try Self.validateFolder(folder)
    try Self.validateID(message.id)
    if (try? find(id: message.id)) != nil { throw MailboxError("a message with id '\(message.id)' exists") }
    try FileManager.default.createDirectory(at: folderURL(folder), withIntermediateDirectories: true)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try writeAtomically(try encoder.encode(message), to: messageURL(id: message.id, folder: folder))
  }

  /// A fresh id: the UTC date and 8 random hex digits, e.g. `msg-20261124-3fa9c2e1`.
  func newID(date: Date = .now) -> String {
    let day = date.formatted(.iso8601.year().month().day().dateSeparator(.omitted))
    let random = String(UInt32.random(in: .min ... .max), radix: 16)
    return "msg-\(day)-\(String(repeating: "0", count: 8 - random.count))\(random)"
  }

  // MARK: Files

  private func folderURL(_ folder: String) -> URL {
    root.appendingPathComponent(folder, isDirectory: true)
  }

  private func messageURL(id: String, folder: String) -> URL {
    folderURL(folder).appendingPathComponent("\(id).json")
  }

  private func isDirectory(_ url: URL) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
      && isDirectory.boolValue
  }

  private func load(_ file: URL) -> Message? {
    do {
      return try JSONDecoder().decode(Message.self, from: Data(contentsOf: file))
    } catch {
      log("skipping unreadable message \(file.path): \(error)")
      return nil
    }
  }

  /// Writes `data` to a hidden temporary file next to `file`, flushes it, then renames it over `file`.
  private func writeAtomically(_ data: Data, to file: URL) throws {
    let temporary = file.deletingLastPathComponent()
      .appendingPathComponent(".\(file.lastPathComponent).\(UInt32.random(in: .min ... .max)).tmp")
    guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
      throw MailboxError("cannot create \(temporary.path)")
    }
    do {
      let handle = try FileHandle(forWritingTo: temporary)
      defer { try? handle.close() }
      try handle.write(contentsOf: data)
      try handle.synchronize()
      try renameFile(temporary, to: file)
    } catch {
      try? FileManager.default.removeItem(at: temporary)
      throw error
    }
  }

  /// rename(2): atomic within one file system, replaces `destination` if it exists.
  private func renameFile(_ source: URL, to destination: URL) throws {
    let renamed = source.withUnsafeFileSystemRepresentation { from in
      destination.withUnsafeFileSystemRepresentation { to in
        guard let from, let to else { return false }
        return rename(from, to) == 0
      }
    }
    guard renamed else {
      throw MailboxError("cannot move \(source.lastPathComponent): \(String(cString: strerror(errno)))")
    }
  }
}
