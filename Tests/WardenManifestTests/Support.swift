import WardenManifest

/// The errors of parsing `text`, each as `line:col: message`; empty when it parses.
func problems(_ text: String) -> [String] {
  do throws(ManifestErrors) {
    _ = try ManifestLoader.parse(text, file: "m.yaml")
    return []
  } catch {
    return error.errors.map { "\($0.line):\($0.column): \($0.message)" }
  }
}
