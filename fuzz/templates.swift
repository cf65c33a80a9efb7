// libFuzzer target: resource templates, scope filters and globs (Sources/WardenCore/Policy), compiled
// with WardenJSON into this module (build.sh drops their `import WardenJSON`).
//
// Input, split at the first two newlines:
//   line 1  a template source, e.g. `file:{files[]|path:repo_path}`; also used as a glob pattern
//   line 2  the manifest's base directory (empty: none); a leading `!` sets literal_paths. The
//           manifest author writes it, and the loader admits only an absolute path without NUL;
//           warden takes it as written, so a base that also holds expansion syntax counts as none
//   rest    the call's arguments as a JSON object; when it is not one, every argument the template
//           names gets the rest as a string, so the filters are reached without JSON syntax
//
// Checked:
// - parsing the template and computing its resources never crash;
// - every path the `path` filter produced is absolute and normalized: it starts with `/`, and has no
//   empty, `.` or `..` component (no `//`, `/./`, `/../`, trailing `/`), no NUL, and no `$` unless
//   literal paths are declared; normalizing it again changes nothing;
// - globs made of line 1 and line 2 (as action, resource and name patterns) never crash; a pattern
//   matches its own text and covers itself; `covers` is sound: when g covers h, every text h
//   matches (line 1, line 2, each resource) g matches too.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let input = UnsafeBufferPointer(start: data, count: size)
  let lines = input.split(separator: 0x0A, maxSplits: 2, omittingEmptySubsequences: false)
  let source = String(decoding: lines[0], as: UTF8.self)
  var baseLine = lines.count > 1 ? String(decoding: lines[1], as: UTF8.self) : ""
  let literal = baseLine.hasPrefix("!")
  if literal { baseLine.removeFirst() }
  let rest = lines.count > 2 ? Array(lines[2]) : []

  var texts = [source, baseLine]
  if let template = try? ResourceTemplate(source) {
    let arguments: JSON
    if let value = try? JSONValue.parse(rest), value.kind == .object {
      arguments = value.json
    } else {
      let text = String(decoding: rest, as: UTF8.self)
      arguments = .object(template.argumentNames.map { JSON.Member($0, .string(text)) })
    }
    let baseBytes = Array(baseLine.utf8)
    let base =
      baseBytes.first == UInt8(ascii: "/") && !baseBytes.contains(0)
        && ScopeFilters.expansionSyntax(in: baseBytes) == nil ? baseLine : nil
    // The same arguments also as a launch context value, a lookup's answer and a SQL operation, so
    // `{ctx.KEY}`, `{lookup.NAME.FIELD}`, `?` and the sql filters are reached too.
    let richer = TemplateInput(
      arguments: arguments, context: ["env": baseLine, "ctx": baseLine],
      operation: SQLOperation(kind: "read", table: baseLine.isEmpty ? nil : baseLine, statement: 0),
      lookups: ["v": arguments, "lookup": arguments])
    for values in [TemplateInput(arguments: arguments), richer] {
      if let resources = try? template.resources(for: values, base: base, literalPaths: literal) {
        for resource in resources {
          texts.append(resource.text)
          for path in resource.paths { checkPath(path, literal: literal, input) }
        }
      }
    }
  }
  checkGlobs(source, baseLine, texts, input)
  return 0
}

private func checkPath(_ path: String, literal: Bool, _ input: UnsafeBufferPointer<UInt8>) {
  let bytes = Array(path.utf8)
  func expect(_ condition: Bool, _ what: String) {
    if !condition { fail("path \(path.debugDescription) \(what)", input) }
  }
  expect(bytes.first == UInt8(ascii: "/"), "is not absolute")
  if bytes != [UInt8(ascii: "/")] {
    for component in bytes.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
      expect(!component.isEmpty, "has an empty component")
      expect(!component.elementsEqual([0x2E]) && !component.elementsEqual([0x2E, 0x2E]), "has a . or .. component")
    }
  }
  expect(!bytes.contains(0), "holds NUL")
  if !literal { expect(!bytes.contains(UInt8(ascii: "$")), "holds $") }
  let again = try? ScopeFilters.normalizedPath(path, base: nil, literal: literal)
  expect(again == path, "normalizes again to \(String(describing: again))")
}

private func checkGlobs(_ first: String, _ second: String, _ texts: [String], _ input: UnsafeBufferPointer<UInt8>) {
  for make in [Glob.action, Glob.resource, Glob.name] {
    let wide = make(first)
    let narrow = make(second)
    for glob in [wide, narrow] {
      if !glob.matches(glob.pattern) { fail("glob \(glob.pattern.debugDescription) does not match itself", input) }
      if !glob.covers(glob) { fail("glob \(glob.pattern.debugDescription) does not cover itself", input) }
    }
    guard wide.covers(narrow) else { continue }
    for text in texts where narrow.matches(text) && !wide.matches(text) {
      fail(
        "\(wide.pattern.debugDescription) covers \(narrow.pattern.debugDescription) (separator \(wide.separator)), "
          + "which matches \(text.debugDescription), which it does not match", input)
    }
  }
}

private func fail(_ message: String, _ input: UnsafeBufferPointer<UInt8>) -> Never {
  fatalError("templates invariant: \(message)\n  input: \(String(decoding: input, as: UTF8.self).debugDescription)")
}
