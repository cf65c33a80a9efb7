import Crypto
import WardenJSON
import WardenWrap

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The files `warden wrap` and `unwrap` read and write: the agent's configuration (never through a
/// symbolic link, never half-written), its backup, and warden's record of what it wrote.
enum WrapFiles {
  /// A configuration file read whole, with its mode.
  struct Config {
    var path: String
    var bytes: [UInt8]
    var mode: mode_t
  }

  /// Reads `path`: a regular file, not a symbolic link, at most `ConfigEditor.maximumSize` bytes.
  static func read(_ path: String) throws -> Config {
    var info = stat()
    guard lstat(path, &info) == 0 else {
      throw CommandFailure("warden: cannot read \(path): \(String(cString: strerror(errno)))", status: 66)
    }
    if (info.st_mode & S_IFMT) == S_IFLNK {
      throw CommandFailure(
        "warden: \(path) is a symbolic link; warden does not write through links: give the file it points to",
        status: 65)
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else {
      throw CommandFailure("warden: \(path) is not a regular file", status: 65)
    }
    guard Int(info.st_size) <= ConfigEditor.maximumSize else {
      throw CommandFailure(
        "warden: \(path) is larger than \(ConfigEditor.maximumSize >> 20) MiB; not an MCP configuration",
        status: 65)
    }
    let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw CommandFailure("warden: cannot read \(path): \(String(cString: strerror(errno)))", status: 66)
    }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
      if count < 0 && errno == EINTR { continue }
      guard count >= 0 else {
        throw CommandFailure("warden: cannot read \(path): \(String(cString: strerror(errno)))", status: 66)
      }
      if count == 0 { break }
      bytes += buffer[0..<count]
      guard bytes.count <= ConfigEditor.maximumSize else {
        throw CommandFailure(
          "warden: \(path) is larger than \(ConfigEditor.maximumSize >> 20) MiB", status: 65)
      }
    }
    return Config(path: path, bytes: bytes, mode: info.st_mode & 0o7777)
  }

  /// Replaces `path` with `bytes` all at once: a temporary file in the same folder, written,
  /// given `mode`, flushed to disk, then renamed over it (a rename replaces a link, never follows it).
  static func replace(_ path: String, with bytes: [UInt8], mode: mode_t) throws {
    let folder = directory(of: path)
    let name = String(path.split(separator: "/").last ?? "config")
    var template = Array("\(folder)/.\(name).warden-XXXXXX".utf8CString)
    let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard descriptor >= 0 else {
      throw CommandFailure(
        "warden: cannot write in \(folder): \(String(cString: strerror(errno))); \(path) is left as it was",
        status: 73)
    }
    let temporary = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
    var written = false
    defer {
      close(descriptor)
      if !written { unlink(temporary) }
    }
    try writeAll(descriptor, bytes, path: temporary)
    guard fchmod(descriptor, mode) == 0, fsync(descriptor) == 0, rename(temporary, path) == 0 else {
      throw CommandFailure(
        "warden: cannot replace \(path): \(String(cString: strerror(errno))); it is left as it was",
        status: 73)
    }
    written = true
    let folderDescriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if folderDescriptor >= 0 {
      fsync(folderDescriptor)
      close(folderDescriptor)
    }
  }

  /// Creates `path` with `bytes` unless something is there already (never overwritten, never
  /// through a link); returns whether it wrote it.
  static func createOnce(_ path: String, with bytes: [UInt8], mode: mode_t) throws -> Bool {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
    if descriptor < 0 && errno == EEXIST { return false }
    guard descriptor >= 0 else {
      throw CommandFailure("warden: cannot write \(path): \(String(cString: strerror(errno)))", status: 73)
    }
    defer { close(descriptor) }
    try writeAll(descriptor, bytes, path: path)
    guard fchmod(descriptor, mode) == 0, fsync(descriptor) == 0 else {
      throw CommandFailure("warden: cannot write \(path): \(String(cString: strerror(errno)))", status: 73)
    }
    return true
  }

  static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], path: String) throws {
    var offset = 0
    while offset < bytes.count {
      let count = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else {
        throw CommandFailure("warden: cannot write \(path): \(String(cString: strerror(errno)))", status: 73)
      }
      offset += count
    }
  }

  static func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
  }

  /// `path` made absolute, its folder resolved (the file itself is not: it must not be a link).
  static func absolute(_ path: String) -> String {
    let folder = directory(of: path)
    let name = String(path.split(separator: "/").last ?? "")
    guard let resolved = realpath(folder, nil) else { return path }
    defer { free(resolved) }
    let base = String(cString: resolved)
    return (base == "/" ? "" : base) + "/" + name
  }

  static func sha256(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map {
      String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16)
    }
    .joined()
  }

  // MARK: - Warden's record

  /// What wrap wrote to a file, in `$WARDEN_HOME/wrapped/`: the digest of the bytes it wrote, and
  /// the bytes before (`ID.original`), so unwrap can put those back when the file is still as wrap
  /// left it. Kept in warden's home, out of the agent's reach, not beside the file.
  struct Record {
    var path: String
    var agent: String
    var originalDigest: String
    var wroteDigest: String
  }

  static func recordPaths(home: String, config: String) -> (record: String, original: String) {
    let id = String(sha256(Array(config.utf8)).prefix(32))
    return ("\(home)/wrapped/\(id).json", "\(home)/wrapped/\(id).original")
  }

  static func saveRecord(_ record: Record, original: [UInt8], home: String) throws {
    let folder = "\(home)/wrapped"
    if mkdir(folder, 0o700) != 0 && errno != EEXIST {
      throw CommandFailure("warden: cannot create \(folder): \(String(cString: strerror(errno)))", status: 73)
    }
    let paths = recordPaths(home: home, config: record.path)
    let json = JSONValue.object([
      ("path", .string(record.path)), ("agent", .string(record.agent)),
      ("original_sha256", .string(record.originalDigest)), ("wrote_sha256", .string(record.wroteDigest)),
    ]).text(pretty: true)
    try replace(paths.original, with: original, mode: 0o600)
    try replace(paths.record, with: Array((json + "\n").utf8), mode: 0o600)
  }

  static func loadRecord(home: String, config: String) -> (Record, original: [UInt8])? {
    let paths = recordPaths(home: home, config: config)
    guard let text = try? read(paths.record), let json = try? JSONValue.parse(text.bytes),
      let original = try? read(paths.original), json["path"]?.stringValue == config,
      let agent = json["agent"]?.stringValue, let originalDigest = json["original_sha256"]?.stringValue,
      let wroteDigest = json["wrote_sha256"]?.stringValue, sha256(original.bytes) == originalDigest
    else { return nil }
    return (
      Record(path: config, agent: agent, originalDigest: originalDigest, wroteDigest: wroteDigest),
      original.bytes
    )
  }

  static func removeRecord(home: String, config: String) {
    let paths = recordPaths(home: home, config: config)
    unlink(paths.record)
    unlink(paths.original)
  }
}
