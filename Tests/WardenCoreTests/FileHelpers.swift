import Glibc

/// Reads a whole file (tests only; the core itself does no I/O).
func readFile(_ path: String) throws -> [UInt8] {
  guard let file = fopen(path, "rb") else { throw FixtureError(message: "cannot open \(path)") }
  defer { fclose(file) }
  var bytes: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: 65536)
  while true {
    let count = fread(&buffer, 1, buffer.count, file)
    if count == 0 { break }
    bytes += buffer[0..<count]
  }
  return bytes
}

/// The names in a directory.
func listDirectory(_ path: String) throws -> [String] {
  guard let directory = opendir(path) else { throw FixtureError(message: "cannot list \(path)") }
  defer { closedir(directory) }
  var names: [String] = []
  while let entry = readdir(directory) {
    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
      String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
    if name != "." && name != ".." { names.append(name) }
  }
  return names
}

struct FixtureError: Error {
  var message: String
}
