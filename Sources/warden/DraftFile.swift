import WardenManifest

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Writes a drafted manifest into `$WARDEN_HOME/manifests`, where warden finds user manifests.
enum DraftFile {
  /// Writes `text` to `$WARDEN_HOME/manifests/SERVER.yaml` (mode 0600) through a temporary file and
  /// a rename, so no reader ever sees half a manifest; returns the path. Refuses to replace an
  /// existing file unless `force`, and to add a second manifest claiming the server's name or one of
  /// its aliases (two would stop `warden run` for that server).
  static func save(_ text: String, server: String, aliases: [String], force: Bool) throws -> String {
    let home = try CommandEnvironment.home()
    try makeDirectory(home)
    do { try CommandEnvironment.repairHome(home) } catch {
      throw CommandFailure("warden: \(error)", status: 73)
    }
    let directory = home + "/manifests"
    try makeDirectory(directory)
    let path = directory + "/" + server + ".yaml"
    var info = stat()
    if lstat(path, &info) == 0, !force {
      throw CommandFailure("warden: \(path) exists; review it, or replace it with --force", status: 73)
    }
    if let catalog = try? ManifestCatalog.load(directory: directory, builtins: false) {
      for name in [server] + aliases {
        guard let claimant = try? catalog.entry(named: name), claimant.source != path else { continue }
        throw CommandFailure(
          "warden: \(claimant.source) already claims '\(name)'; two manifests claiming one name stop warden run:"
            + " edit that one, or move it away first", status: 73)
      }
    }
    let temporary = directory + "/." + server + ".yaml.tmp-\(getpid())"
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { throw failure("cannot create \(temporary)") }
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
      let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
      if written < 0, errno == EINTR { continue }
      guard written > 0 else {
        let error = failure("cannot write \(temporary)")
        close(descriptor)
        unlink(temporary)
        throw error
      }
      offset += written
    }
    guard fsync(descriptor) == 0, close(descriptor) == 0 else {
      unlink(temporary)
      throw failure("cannot write \(temporary)")
    }
    guard rename(temporary, path) == 0 else {
      let error = failure("cannot rename \(temporary) to \(path)")
      unlink(temporary)
      throw error
    }
    return path
  }

  /// Makes `path` with mode 0700 when it is missing, and its missing parents as `mkdir -p` would.
  private static func makeDirectory(_ path: String) throws {
    var prefix = ""
    for component in path.split(separator: "/").dropLast() {
      prefix += "/" + component
      if mkdir(prefix, 0o755) != 0, errno != EEXIST { throw failure("cannot create \(prefix)") }
    }
    if mkdir(path, 0o700) != 0, errno != EEXIST { throw failure("cannot create \(path)") }
  }

  private static func failure(_ what: String) -> CommandFailure {
    CommandFailure("warden: \(what): \(String(cString: strerror(errno)))", status: 73)
  }
}
