import Foundation
import Testing
import WardenCore
import WardenStore

/// A fresh directory under the system temp directory, removed when `body` returns. `body` gets the
/// path of a not-yet-existing `home` inside it, so the store creates it.
func withTemporaryHome<T>(_ body: (String) throws -> T) throws -> T {
  var template = Array((NSTemporaryDirectory() + "/warden-store-XXXXXX").utf8CString)
  guard let base = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
  let directory = String(cString: base)
  defer { try? FileManager.default.removeItem(atPath: directory) }
  return try body(directory + "/home")
}

/// A grant with every field given something distinctive.
func makeGrant(
  _ id: String, effect: Grant.Effect = .allow, agent: String = "*", issuedAt: Int64 = 1_000,
  expiresAt: Int64? = 10_000, parentID: String? = nil
) -> Grant {
  Grant(
    id: id, effect: effect, actions: ["git.read"], agent: agent, purpose: "test \(id)", issuedBy: "alice",
    issuedAt: issuedAt, expiresAt: effect == .forbid ? expiresAt : (expiresAt ?? 10_000), parentID: parentID)
}

/// The `StoreError` `body` throws, or nil if it throws nothing (anything else is a test failure).
func storeError(_ body: () throws -> Void) -> StoreError? {
  do {
    try body()
    return nil
  } catch let error as StoreError {
    return error
  } catch {
    Issue.record("not a StoreError: \(error)")
    return nil
  }
}

/// Runs the sqlite3 command-line shell on `database` with `sql`: a real second process.
@discardableResult
func sqlite3(_ database: String, _ sql: String) throws -> String {
  let result = try sqlite3Output(database, sql)
  #expect(result.status == 0, "sqlite3 failed on \(sql): \(result.error)")
  return result.output
}

/// Runs the sqlite3 shell, returning its exit status, stdout and stderr.
func sqlite3Output(_ database: String, _ sql: String) throws -> (status: Int32, output: String, error: String)
{
  try runCapturing("/usr/bin/sqlite3", ["-bail", "-cmd", ".timeout 5000", database, sql])
}

/// Runs `executable` with `arguments` (and `environment`, else this process's), returning its exit
/// status, stdout and stderr.
func runCapturing(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws
  -> (
    status: Int32, output: String, error: String
  )
{
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  if let environment { process.environment = environment }
  let output = Pipe()
  let error = Pipe()
  process.standardOutput = output
  process.standardError = error
  try process.run()
  let outputData = output.fileHandleForReading.readDataToEndOfFile()
  let errorData = error.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (
    process.terminationStatus, String(decoding: outputData, as: UTF8.self),
    String(decoding: errorData, as: UTF8.self)
  )
}

/// The permission bits of `path`.
func mode(_ path: String) throws -> Int {
  let attributes = try FileManager.default.attributesOfItem(atPath: path)
  return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}
