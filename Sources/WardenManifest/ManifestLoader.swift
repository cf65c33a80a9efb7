import Foundation
import WardenCore
import Yams

/// Reads manifest files (YAML, or JSON, which is YAML too) into the checked `Manifest` model.
///
/// Loading fails closed: an unknown key, a value of the wrong type, an action that is not a plain
/// dotted name or a resource template that does not parse is an error, never a silently weaker
/// manifest. Every problem of a file is reported, each with its line and column.
public enum ManifestLoader {
  /// Parses the text of a manifest; `file` names it in the errors.
  public static func parse(_ text: String, file: String) throws(ManifestErrors) -> Manifest {
    let root: Node?
    do {
      // The encoding is explicit: Yams' default consults an environment variable and then prints to
      // stdout, which belongs to the protocol in `warden run`.
      root = try Yams.compose(yaml: text, .default, .default, .utf8)
    } catch {
      throw ManifestErrors([YAMLSyntaxError.manifestError(for: error, text: text, file: file)])
    }
    guard let root else {
      throw ManifestErrors([
        ManifestError(
          file: file, line: 0, column: 0, message: "the manifest is empty; it needs 'server' and 'tools'")
      ])
    }
    var reader = ManifestReader(file: file, text: text)
    let manifest = reader.manifest(from: root)
    guard let manifest, reader.errors.isEmpty else {
      throw ManifestErrors(reader.sortedErrors)
    }
    return manifest
  }

  /// The names (`server`, then `aliases`) a manifest's text claims, read on their own so that they
  /// are known even when the rest of the manifest is invalid; nil when they cannot be read without
  /// doubt (the text is not YAML, or `server` or `aliases` is missing, repeated or invalid).
  public static func claimedNames(_ text: String, file: String) -> [String]? {
    guard let root = try? Yams.compose(yaml: text, .default, .default, .utf8) else { return nil }
    var reader = ManifestReader(file: file, text: text)
    return reader.claimedNames(from: root)
  }

  /// Reads and parses the manifest at `path`.
  public static func load(path: String) throws(ManifestErrors) -> Manifest {
    try parse(try read(path: path), file: path)
  }

  /// The text of the file at `path`, which must be UTF-8.
  static func read(path: String) throws(ManifestErrors) -> String {
    func failure(_ message: String) -> ManifestErrors {
      ManifestErrors([ManifestError(file: path, line: 0, column: 0, message: message)])
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw failure("no such file")
    }
    guard !isDirectory.boolValue else { throw failure("is a directory, not a manifest file") }
    guard let data = FileManager.default.contents(atPath: path) else { throw failure("cannot read the file") }
    guard let text = String(validating: data, as: UTF8.self) else {
      throw failure("the file is not valid UTF-8")
    }
    return text
  }
}
