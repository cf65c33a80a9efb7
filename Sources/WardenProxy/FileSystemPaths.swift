import WardenCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Resolving paths as the kernel will when the server opens them: the edge behind the core's
/// `PathResolver`.
public enum FileSystemPaths {
  /// Symbolic links followed before giving up: the kernel's own limit (`ELOOP`).
  static let maximumLinks = 40

  /// `path` (absolute, possibly with `.`, `..` and links) with every symbolic link on its longest
  /// existing prefix followed, component by component as the kernel walks it; what does not exist
  /// yet is appended lexically. Nil on a link loop or an unreadable link.
  ///
  /// A link created between this check and the server's use of the path is not seen (SPEC says so).
  public static func resolve(_ path: String) -> String? {
    var resolved: [[UInt8]] = []
    var pending: [[UInt8]] = components(of: Array(path.utf8)).reversed()
    var exists = true
    var linksFollowed = 0
    while let component = pending.popLast() {
      if component == [UInt8(ascii: ".")] { continue }
      if component == [UInt8(ascii: "."), UInt8(ascii: ".")] {
        if !resolved.isEmpty { resolved.removeLast() }
        continue
      }
      let candidate = joined(resolved + [component])
      guard exists, let target = linkTarget(candidate) else {
        // Not a link: either a plain entry, or nothing there (then nothing below it exists either).
        if exists && !entryExists(candidate) { exists = false }
        resolved.append(component)
        continue
      }
      guard let target else { return nil }
      linksFollowed += 1
      if linksFollowed > maximumLinks { return nil }
      if target.first == UInt8(ascii: "/") { resolved.removeAll() }
      pending += components(of: target).reversed()
    }
    return String(decoding: joined(resolved), as: UTF8.self)
  }

  /// The [`PathResolver`] the relay and `warden check` use.
  public static let resolver: PathResolver = { resolve($0) }

  private static func components(of bytes: [UInt8]) -> [[UInt8]] {
    bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map(Array.init)
  }

  private static func joined(_ components: [[UInt8]]) -> [UInt8] {
    guard !components.isEmpty else { return [UInt8(ascii: "/")] }
    var out: [UInt8] = []
    for component in components {
      out.append(UInt8(ascii: "/"))
      out += component
    }
    return out
  }

  /// nil: not a symbolic link (or nothing there); .some(nil): a link that cannot be read.
  private static func linkTarget(_ path: [UInt8]) -> [UInt8]?? {
    var info = stat()
    let isLink: Bool = path.withUnsafeBufferPointer { pointer in
      pointer.withMemoryRebound(to: CChar.self) { chars in
        var cString = Array(chars)
        cString.append(0)
        return lstat(cString, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
      }
    }
    guard isLink else { return nil }
    var cString = path.map { CChar(bitPattern: $0) }
    cString.append(0)
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let count = readlink(cString, &buffer, buffer.count - 1)
    guard count > 0 else { return .some(nil) }
    return .some(buffer.prefix(count).map { UInt8(bitPattern: $0) })
  }

  private static func entryExists(_ path: [UInt8]) -> Bool {
    var cString = path.map { CChar(bitPattern: $0) }
    cString.append(0)
    var info = stat()
    return lstat(cString, &info) == 0
  }
}
