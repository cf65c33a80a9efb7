import ArgumentParser
import WardenCore
import WardenSQL

extension CommandEnvironment {
  /// `--context KEY=VALUE` options as a dictionary; a malformed or repeated key is a usage error.
  static func contextPairs(_ options: [String]) throws -> [String: String] {
    var pairs: [String: String] = [:]
    for option in options {
      guard let pair = LaunchContext.pair(option) else {
        throw ValidationError(
          "--context '\(option)' must be KEY=VALUE, the key of letters, digits, '_' and '-' (example: --context env=production)"
        )
      }
      guard pairs[pair.key] == nil else { throw ValidationError("--context \(pair.key) is given twice") }
      pairs[pair.key] = pair.value
    }
    return pairs
  }

  /// What classifies the SQL of manifests that declare `sql:`.
  static var sqlClassifier: (any SQLClassifying)? { SQLClassifier() }
}
