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
          + " run: chmod 700 \(shellQuoted(home))")
    }
  }

  /// What warden itself puts in its home, and whether each is a directory.
  static let ownEntries: [String: Bool] = [
    "warden.db": false, "warden.db-wal": false, "warden.db-shm": false, "warden.db-journal": false,
    "audit.head": false, "config.yaml": false, "manifests": true, "audit-journal": true,
  ]

  /// Whether `name` is the audit anchor of a PostgreSQL store (`audit-<16 hex>.head`).
  package static func isStoreAnchor(_ name: String) -> Bool {
    guard name.hasPrefix("audit-"), name.hasSuffix(".head") else { return false }
    let middle = name.dropFirst(6).dropLast(5)
    return middle.utf8.count == 16
      && middle.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
  }

  /// Sets an existing home that other users can read or enter, but not write, to mode 0700 when it
  /// is this user's and holds nothing but warden's own files (`ownEntries`, each this user's and
  /// writable by no one else, and so are the entries of `manifests/` and `audit-journal/`): the
  /// state `mkdir -p $WARDEN_HOME/manifests` leaves it in. Returns what it did, nil when it had
  /// nothing to do (no home, already private, or not this user's: `prepare` refuses those).
  ///
  /// Throws, with the `chmod` to run, when the home is reachable but cannot be fixed safely: other
  /// users could write it, or it holds something else. Never follows a symbolic link: a home that
  /// is one is left to `prepare`.
  static func repairPermissions(_ home: String) throws(StoreError) -> String? {
    var info = stat()
    guard lstat(home, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == geteuid(),
      info.st_mode & 0o077 != 0
    else { return nil }
    let descriptor = open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var opened = stat()
    guard fstat(descriptor, &opened) == 0, opened.st_dev == info.st_dev, opened.st_ino == info.st_ino,
      opened.st_uid == geteuid()
    else { return nil }
    let mode = opened.st_mode & 0o777
    let refusal =
      "warden's home \(home) has mode \(octal(mode)), so other users can reach the delegations, and warden"
    guard mode & 0o022 == 0 else {
      throw StoreError(
        .invalid,
        "\(refusal) does not fix it itself because other users could have written to it; check what it"
          + " holds, then run: chmod 700 \(shellQuoted(home))")
    }
    let problems = foreignEntries(in: descriptor)
    guard problems.isEmpty else {
      throw StoreError(
        .invalid,
        "\(refusal) fixes it itself only when it holds nothing but warden's files; it also holds "
          + problems.prefix(5).joined(separator: ", ") + (problems.count > 5 ? ", ..." : "")
          + "; move those elsewhere or run: chmod 700 \(shellQuoted(home))")
    }
    guard fchmod(descriptor, 0o700) == 0 else {
      throw systemError(.cannotOpen, "cannot set the mode of \(home) to 0700")
    }
    return "set warden's home \(home) to mode 0700 (it was \(octal(mode)), which let other users read the"
      + " delegations; it held only warden's files)"
  }

  /// What in the directory open as `descriptor` keeps warden from fixing its home's mode, each
  /// described for the message: an entry warden does not make, or one another user owns or could
  /// write; the same one level down in `manifests/` and `audit-journal/`.
  private static func foreignEntries(in descriptor: Int32, below: String? = nil) -> [String] {
    guard let names = entryNames(of: descriptor) else { return ["'\(below ?? ".")' (cannot list it)"] }
    var problems: [String] = []
    for name in names {
      let shown = below.map { "\($0)/\(name)" } ?? name
      var info = stat()
      guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
        problems.append("'\(shown)' (cannot inspect it)")
        continue
      }
      let kind = info.st_mode & S_IFMT
      if info.st_uid != geteuid() {
        problems.append("'\(shown)' (another user's)")
      } else if kind != S_IFLNK, info.st_mode & 0o022 != 0 {
        problems.append("'\(shown)' (other users can write it)")
      } else if below == nil {
        guard let isDirectory = ownEntries[name] ?? (isStoreAnchor(name) ? false : nil) else {
          problems.append("'\(shown)'")
          continue
        }
        guard kind == (isDirectory ? S_IFDIR : S_IFREG) else {
          problems.append("'\(shown)' (not a \(isDirectory ? "directory" : "regular file"))")
          continue
        }
        if isDirectory {
          let inner = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
          guard inner >= 0 else {
            problems.append("'\(shown)' (cannot read it)")
            continue
          }
          problems += foreignEntries(in: inner, below: name)
          close(inner)
        }
      }
    }
    return problems
  }

  /// The names in the directory open as `descriptor`, without `.` and `..`, sorted; nil when it
  /// cannot be listed.
  private static func entryNames(of descriptor: Int32) -> [String]? {
    let copy = dup(descriptor)
    guard copy >= 0, let directory = fdopendir(copy) else {
      if copy >= 0 { close(copy) }
      return nil
    }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
  }

  /// `text` quoted for a POSIX shell.
  static func shellQuoted(_ text: String) -> String {
    "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
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
