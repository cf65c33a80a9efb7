import Yams

/// Turns the errors of the YAML parser into manifest errors with a position.
enum YAMLSyntaxError {
  static func manifestError(for error: any Error, text: String, file: String) -> ManifestError {
    guard let yamlError = error as? YamlError else {
      return ManifestError(file: file, line: 0, column: 0, message: "invalid yaml: \(error)")
    }
    switch yamlError {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      var message = "invalid yaml: \(problem)"
      if let context, context.mark.line > 0 {
        message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
      }
      return ManifestError(file: file, line: mark.line, column: mark.column, message: message)
    case .reader(let problem, let offset, _, _):
      let (line, column) = offset.map { position(ofCharacterOffset: $0, in: text) } ?? (0, 0)
      return ManifestError(file: file, line: line, column: column, message: "invalid yaml: \(problem)")
    case .duplicatedKeysInMapping(let duplicates, let context):
      let keys = duplicates.sorted()
      let first = keys.first ?? ""
      let (line, column) =
        DuplicateKeyLocator.laterOccurrence(of: first, after: context.mark, in: text)
        ?? (context.mark.line, context.mark.column)
      let message =
        keys.count == 1
        ? "duplicate key '\(first)'"
        : "duplicate keys \(keys.map { "'\($0)'" }.joined(separator: ", "))"
      return ManifestError(file: file, line: line, column: column, message: message)
    default:
      return ManifestError(file: file, line: 0, column: 0, message: "invalid yaml: \(yamlError)")
    }
  }

  /// 1-based line and column (in Unicode scalars) of the character at `offset`.
  static func position(ofCharacterOffset offset: Int, in text: String) -> (line: Int, column: Int) {
    var line = 1
    var column = 1
    for character in text.prefix(offset) {
      if character.isNewline {
        line += 1
        column = 1
      } else {
        column += character.unicodeScalars.count
      }
    }
    return (line, column)
  }
}
