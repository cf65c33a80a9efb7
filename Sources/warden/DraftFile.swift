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
  /// existing file unless `force`, and to add a second manifest claiming the server's name (two
  /// would stop `warden run` for that server).
  static func save(_ text: String, server: String, force: Bool) throws -> String {
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
    if let catalog = try? ManifestCatalog.load(directory: directory, builtins: false),
      let claimant = try? catalog.entry(named: server), claimant.source != path
    {
      throw CommandFailure(
        "warden: \(claimant.source) already claims '\(server)'; two manifests claiming one name stop warden run:"
          + " edit that one, or move it away first", status: 73)
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

  /// Makes `path` with mode 0700 when it is missing (its parents must exist, as for `mkdir`).
  private static func makeDirectory(_ path: String) throws {
    if mkdir(path, 0o700) != 0, errno != EEXIST { throw failure("cannot create \(path)") }
  }

  private static func failure(_ what: String) -> CommandFailure {
    CommandFailure("warden: \(what): \(String(cString: strerror(errno)))", status: 73)
  }
}
