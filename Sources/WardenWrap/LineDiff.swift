/// A unified diff of two texts by lines, for `--dry-run`: the lines both share at either end are
/// set aside, the rest compared by longest common subsequence (or, past a size where that costs
/// too much, shown as removed and added whole).
public enum LineDiff {
  public static func unified(old: [UInt8], new: [UInt8], oldName: String, newName: String, context: Int = 3)
    -> String
  {
    let a = lines(old)
    let b = lines(new)
    guard a != b else { return "" }
    var prefix = 0
    while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
    var suffix = 0
    while suffix < a.count - prefix, suffix < b.count - prefix,
      a[a.count - 1 - suffix] == b[b.count - 1 - suffix]
    {
      suffix += 1
    }
    let middleA = Array(a[prefix..<(a.count - suffix)])
    let middleB = Array(b[prefix..<(b.count - suffix)])
    // (kind, line index in a, line index in b): " " both, "-" a only, "+" b only.
    var script: [(Character, Int, Int)] = (0..<prefix).map { (" ", $0, $0) }
    for step in compare(middleA, middleB) {
      script.append((step.0, step.1 + prefix, step.2 + prefix))
    }
    script += (0..<suffix).map { (" ", a.count - suffix + $0, b.count - suffix + $0) }

    var out = "--- \(oldName)\n+++ \(newName)\n"
    var index = 0
    while index < script.count {
      guard script[index].0 != " " else {
        index += 1
        continue
      }
      var start = max(0, index - context)
      var end = index
      // Extend the hunk while changes come within twice the context of each other.
      while end < script.count {
        if script[end].0 != " " {
          end += 1
          continue
        }
        var next = end
        while next < script.count, script[next].0 == " ", next - end < 2 * context { next += 1 }
        if next < script.count, script[next].0 != " ", next - end < 2 * context {
          end = next
        } else {
          break
        }
      }
      end = min(script.count, end + context)
      if start < 0 { start = 0 }
      let hunk = script[start..<end]
      let oldLines = hunk.filter { $0.0 != "+" }
      let newLines = hunk.filter { $0.0 != "-" }
      let oldStart = (oldLines.first?.1 ?? (hunk.first?.1 ?? 0)) + (oldLines.isEmpty ? 0 : 1)
      let newStart = (newLines.first?.2 ?? (hunk.first?.2 ?? 0)) + (newLines.isEmpty ? 0 : 1)
      out += "@@ -\(oldStart),\(oldLines.count) +\(newStart),\(newLines.count) @@\n"
      for (kind, indexA, indexB) in hunk {
        let line = kind == "+" ? b[indexB] : a[indexA]
        out += String(kind) + line.text + (line.terminated ? "\n" : "\n\\ No newline at end of file\n")
      }
      index = end
    }
    return out
  }

  struct Line: Equatable {
    var text: String
    var terminated: Bool
  }

  static func lines(_ bytes: [UInt8]) -> [Line] {
    var result: [Line] = []
    var start = 0
    for index in bytes.indices where bytes[index] == 0x0A {
      result.append(Line(text: String(decoding: bytes[start..<index], as: UTF8.self), terminated: true))
      start = index + 1
    }
    if start < bytes.count {
      result.append(Line(text: String(decoding: bytes[start...], as: UTF8.self), terminated: false))
    }
    return result
  }

  /// The edit script from `a` to `b`.
  static func compare(_ a: [Line], _ b: [Line]) -> [(Character, Int, Int)] {
    guard a.count * b.count <= 4_000_000 else {
      return a.indices.map { ("-", $0, 0) } + b.indices.map { ("+", a.count, $0) }
    }
    // lengths[i][j]: the longest common subsequence of a[i...] and b[j...].
    let width = b.count + 1
    var lengths = [Int32](repeating: 0, count: (a.count + 1) * width)
    for i in stride(from: a.count - 1, through: 0, by: -1) {
      for j in stride(from: b.count - 1, through: 0, by: -1) {
        lengths[i * width + j] =
          a[i] == b[j]
          ? lengths[(i + 1) * width + j + 1] + 1
          : max(lengths[(i + 1) * width + j], lengths[i * width + j + 1])
      }
    }
    var script: [(Character, Int, Int)] = []
    var i = 0
    var j = 0
    while i < a.count || j < b.count {
      if i < a.count, j < b.count, a[i] == b[j] {
        script.append((" ", i, j))
        i += 1
        j += 1
      } else if j < b.count, i == a.count || lengths[i * width + j + 1] >= lengths[(i + 1) * width + j] {
        script.append(("+", i, j))
        j += 1
      } else {
        script.append(("-", i, j))
        i += 1
      }
    }
    // Removals before additions within each run of changes, as diff prints them.
    var ordered: [(Character, Int, Int)] = []
    var run: [(Character, Int, Int)] = []
    for step in script {
      if step.0 == " " {
        ordered += run.filter { $0.0 == "-" } + run.filter { $0.0 == "+" }
        run = []
        ordered.append(step)
      } else {
        run.append(step)
      }
    }
    return ordered + run.filter { $0.0 == "-" } + run.filter { $0.0 == "+" }
  }
}
