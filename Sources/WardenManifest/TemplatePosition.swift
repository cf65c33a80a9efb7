import Yams

/// Maps a character offset in a resource template back to the file, for templates written on one line
/// without escapes (the usual case). Anything else (escapes, folded lines, block scalars) is left to the
/// caller, which reports the scalar's own position and the offset in words.
enum TemplatePosition {
  static func locate(offset: Int, in template: String, scalar: Node.Scalar, lines: [Substring])
    -> (line: Int, column: Int)?
  {
    guard let mark = scalar.mark, mark.line >= 1, mark.line <= lines.count else { return nil }
    var start = mark.column - 1
    switch scalar.style {
    case .plain: break
    case .singleQuoted, .doubleQuoted: start += 1
    default: return nil
    }
    let line = Array(lines[mark.line - 1].unicodeScalars)
    let wanted = Array(template.unicodeScalars)
    guard start >= 0, start + wanted.count <= line.count,
      Array(line[start..<(start + wanted.count)]) == wanted
    else { return nil }
    return (mark.line, start + 1 + template.prefix(offset).unicodeScalars.count)
  }
}
