import WardenStore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Where the store's password comes from: the file `WARDEN_STORE_PASSWORD_FILE` names (this user's,
/// readable by no one else), else `PGPASSWORD`; nil when neither is set (trust or peer
/// authentication). Never from the URL or the command line (`PostgresURL` refuses one there).
public enum PostgresPassword {
  public static func resolve(environment: [String: String]) throws(StoreError) -> String? {
    if let path = environment["WARDEN_STORE_PASSWORD_FILE"], !path.isEmpty {
      return try readFile(path)
    }
    if let password = environment["PGPASSWORD"], !password.isEmpty { return password }
    return nil
  }

  /// The file's first line. Refused when other users could read or write it: the password would
  /// no longer be the human's alone.
  static func readFile(_ path: String) throws(StoreError) -> String {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw StoreError(
        .cannotOpen, "cannot read the store's password file \(path) (WARDEN_STORE_PASSWORD_FILE)")
    }
    defer { _ = close(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
      throw StoreError(.cannotOpen, "the store's password file \(path) is not a regular file")
    }
    guard info.st_mode & 0o077 == 0 else {
      throw StoreError(
        .invalid,
        "the store's password file \(path) has mode \(String(info.st_mode & 0o777, radix: 8)), so other users"
          + " can reach it; run: chmod 600 \(path)")
    }
    guard info.st_uid == geteuid() || geteuid() == 0 else {
      throw StoreError(.invalid, "the store's password file \(path) belongs to another user")
    }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while bytes.count < 65536 {
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0, errno == EINTR { continue }
      guard count > 0 else { break }
      bytes += buffer[0..<count]
    }
    let line = bytes.prefix { $0 != 0x0A && $0 != 0x0D }
    guard !line.isEmpty else {
      throw StoreError(.invalid, "the store's password file \(path) is empty")
    }
    return String(decoding: line, as: UTF8.self)
  }
}
