#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Warden's home directory on disk: where it is, making it, and refusing one other users can reach.
enum StoreHome {
  /// `$WARDEN_HOME`, else `$XDG_STATE_HOME/warden`, else `$HOME/.local/state/warden`. Empty variables
  /// count as unset; a relative `XDG_STATE_HOME` is ignored, as the XDG spec says.
  static func resolve(environment: [String: String]) throws(StoreError) -> String {
    if let home = environment["WARDEN_HOME"], !home.isEmpty {
      guard home.hasPrefix("/") else {
        throw StoreError(.invalid, "WARDEN_HOME must be an absolute path, not '\(home)'")
      }
      return trimmed(home)
    }
    if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
      return trimmed(state) + "/warden"
    }
    if let user = environment["HOME"], user.hasPrefix("/") {
      return trimmed(user) + "/.local/state/warden"
    }
    throw StoreError(.invalid, "cannot find warden's home: set WARDEN_HOME, XDG_STATE_HOME or HOME")
  }

  /// `path` without trailing slashes (`/` stays `/`).
  static func trimmed(_ path: String) -> String {
    var path = Substring(path)
    while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
    return String(path)
  }

  /// Makes `home` (and missing parents) if needed, the last component with mode 0700, then checks
  /// that it is a directory owned by this user that no other user can read, write or enter.
  static func prepare(_ home: String) throws(StoreError) {
    guard home.hasPrefix("/") else {
      throw StoreError(.invalid, "warden's home must be an absolute path, not '\(home)'")
    }
    var info = stat()
    if stat(home, &info) != 0 {
      guard errno == ENOENT else { throw systemError(.cannotOpen, "cannot inspect \(home)") }
      try makeDirectories(home)
      guard stat(home, &info) == 0 else { throw systemError(.cannotOpen, "cannot inspect \(home)") }
    }
    guard info.st_mode & S_IFMT == S_IFDIR else {
      throw StoreError(.invalid, "warden's home \(home) is not a directory")
    }
    guard info.st_uid == geteuid() else {
      throw StoreError(
        .invalid, "warden's home \(home) belongs to uid \(info.st_uid), not to this user (uid \(geteuid()))")
    }
    let mode = info.st_mode & 0o777
    guard mode & 0o077 == 0 else {
      throw StoreError(
        .invalid,
        "warden's home \(home) has mode \(octal(mode)), so other users can reach the delegations;"
          + " run: chmod 700 '\(home)'")
    }
  }

  /// `mkdir -p`: parents with the usual 0755, the last component with 0700 (the umask may only narrow).
  private static func makeDirectories(_ path: String) throws(StoreError) {
    let components = path.split(separator: "/")
    var prefix = ""
    for (index, component) in components.enumerated() {
      prefix += "/" + component
      let last = index == components.count - 1
      if mkdir(prefix, last ? 0o700 : 0o755) != 0, errno != EEXIST {
        throw systemError(.cannotOpen, "cannot create \(prefix)")
      }
    }
  }

  /// Creates the database file with mode 0600 before SQLite sees it (SQLite would use 0644); SQLite
  /// then gives its -wal and -shm files the same mode. An existing file is left as it is.
  static func createDatabaseFile(_ path: String) throws(StoreError) {
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { throw systemError(.cannotOpen, "cannot open \(path)") }
    close(descriptor)
  }

  /// Runs `body` holding an exclusive advisory lock on `home`, so that processes opening the store at
  /// the same time set it up (WAL, migrations) one after the other. Gives up after `timeout` seconds.
  static func withSetupLock<T>(_ home: String, timeout: Double, _ body: () throws(StoreError) -> T)
    throws(StoreError) -> T
  {
    let descriptor = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard descriptor >= 0 else { throw systemError(.cannotOpen, "cannot open \(home)") }
    defer { close(descriptor) }
    var waited = 0.0
    while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
      guard errno == EWOULDBLOCK || errno == EINTR else {
        throw systemError(.io, "cannot lock \(home) to set up the store")
      }
      guard waited < timeout else {
        throw StoreError(.locked, "another process kept \(home) locked while setting up the store")
      }
      usleep(2_000)
      waited += 0.002
    }
    defer { flock(descriptor, LOCK_UN) }
    return try body()
  }

  private static func systemError(_ code: StoreError.Code, _ message: String) -> StoreError {
    let cause = errno
    let text = strerror(cause).map { String(cString: $0) } ?? "error \(cause)"
    return StoreError(code, message, underlying: text)
  }

  private static func octal(_ mode: mode_t) -> String {
    let digits = String(mode, radix: 8)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
  }
}
