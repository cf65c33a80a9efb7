import WardenJSON

/// A resource template such as `repo:{repo_path|path}` or `file:{files[]|path}`: literal text with
/// placeholders computed from a tool call's arguments.
///
/// The language, kept small on purpose:
/// - `{arg}` an argument; `{arg.field}` a member of an object argument; `{arg[]}` one resource per
///   element of an array argument (`{messages[].id}` per element's member). Several `[]` multiply.
///   `{arg[N]}` the element at index N (0-based) of an array argument (`{command[0]}`); an array
///   without it counts as a missing argument.
/// - Filters after `|`, applied left to right: `path` (absolute and lexically normalized: `.`, `..`,
///   `//` and a trailing slash resolved, so `/repo/../etc` is `/etc`; a relative path is resolved
///   against the declared base, and is an error without one), `path:ARG` (the same, with relative
///   paths resolved against the argument ARG, itself a path: `{files[]|path:repo_path}` for files
///   named relative to a repository), `host` (a URL's host, lowercased), `domain` (the domain of one
///   e-mail address, lowercased), `lower`; `sql-kind` and `sql-table` (the kind and the table of one
///   operation of the SQL text in the argument: the rule declaring `sql:` is decided once per
///   operation, see `Manifest.scopes`).
/// - `{lookup.NAME.FIELD}` a value from the answer of the tool's lookup NAME (see `Lookup`).
/// - `{ctx.KEY}` a value of the launch context (`warden run --context KEY=VALUE`, or `context:` in
///   the configuration), not of the call.
/// - `{arg?}` an optional argument: when it is absent the template yields no resource;
///   `{arg?=TEXT}` yields TEXT instead (what the server acts on when the argument is left out), and
///   the filters apply to it.
/// - `{{` and `}}` stand for literal braces.
/// A missing or wrongly typed argument is an error, never a guessed resource.
public struct ResourceTemplate: Sendable, Equatable, CustomStringConvertible {
  /// The template as written.
  public let source: String
  let parts: [Part]

  enum Part: Sendable, Equatable {
    case literal(String)
    case placeholder(Placeholder)
  }

  struct Placeholder: Sendable, Equatable {
    var source: Source
    var steps: [Step]
    var absence: Absence
    var filters: [Filter]

    var usesSQL: Bool { filters.contains { $0 == .sqlKind || $0 == .sqlTable } }
  }

  /// Where a placeholder's value comes from.
  enum Source: Sendable, Equatable {
    case arguments
    /// The launch context: `{ctx.KEY}`, the key being the only step.
    case context
    /// The answer of a lookup: `{lookup.NAME.FIELD...}`, the steps the path into the answer.
    case lookup(String)
  }

  /// What an absent argument means.
  enum Absence: Sendable, Equatable {
    /// An error: the call is refused.
    case required
    /// No resource from this template (`{arg?}`).
    case nothing
    /// This text instead (`{arg?=TEXT}`).
    case text(String)
  }

  struct Step: Sendable, Equatable {
    var name: String
    var eachElement: Bool
    /// `name[N]`: the element at this index.
    var index: Int? = nil

    var readsElements: Bool { eachElement || index != nil }
  }

  public enum Filter: Sendable, Equatable {
    /// With the name of an argument that holds the base directory for relative paths, if any.
    case path(baseArgument: String?)
    case host, domain, lower
    /// The kind of the SQL operation being decided (`read`, `insert`, `delete`, ...).
    case sqlKind
    /// The table of the SQL operation being decided; none for an operation without a table.
    case sqlTable

    static let names = ["path", "path:ARG", "host", "domain", "lower", "sql-kind", "sql-table"]
  }

  public var description: String { source }

  /// A template of literal text only.
  public init(literal text: String) {
    source = text
    parts = text.isEmpty ? [] : [.literal(text)]
  }

  /// Whether the template has no placeholder.
  public var isLiteral: Bool {
    parts.allSatisfy { part in
      if case .literal = part { return true }
      return false
    }
  }

  /// Parses a template; the error says what is wrong and at which character (0-based).
  public init(_ source: String) throws(TemplateSyntaxError) {
    self.source = source
    var parts: [Part] = []
    var literal = ""
    let characters = Array(source)
    var index = 0
    while index < characters.count {
      let character = characters[index]
      if character == "{" {
        if index + 1 < characters.count, characters[index + 1] == "{" {
          literal.append("{")
          index += 2
          continue
        }
        guard let close = characters[index...].firstIndex(of: "}") else {
          throw TemplateSyntaxError(message: "unclosed '{'", offset: index)
        }
        if !literal.isEmpty {
          parts.append(.literal(literal))
          literal = ""
        }
        parts.append(
          .placeholder(try Self.parsePlaceholder(String(characters[(index + 1)..<close]), at: index + 1)))
        index = close + 1
      } else if character == "}" {
        guard index + 1 < characters.count, characters[index + 1] == "}" else {
          throw TemplateSyntaxError(message: "unmatched '}' (write '}}' for a literal brace)", offset: index)
        }
        literal.append("}")
        index += 2
      } else {
        literal.append(character)
        index += 1
      }
    }
    if !literal.isEmpty { parts.append(.literal(literal)) }
    self.parts = parts
  }

  private static func parsePlaceholder(_ text: String, at offset: Int) throws(TemplateSyntaxError)
    -> Placeholder
  {
    let pieces = text.split(separator: "|", omittingEmptySubsequences: false).map {
      $0.trimmingSpaces()
    }
    guard var pathText = pieces.first, !pathText.isEmpty else {
      throw TemplateSyntaxError(message: "empty placeholder", offset: offset)
    }
    var absence = Absence.required
    if let mark = pathText.firstIndex(of: "?") {
      let rest = pathText[pathText.index(after: mark)...]
      if rest.isEmpty {
        absence = .nothing
      } else if rest.first == "=" {
        absence = .text(String(rest.dropFirst()))
      } else {
        throw TemplateSyntaxError(
          message: "'?' in '{\(text)}' must end the argument ('{arg?}') or start its default ('{arg?=TEXT}')",
          offset: offset)
      }
      pathText = String(pathText[..<mark])
    }
    var steps: [Step] = []
    for segment in pathText.split(separator: ".", omittingEmptySubsequences: false) {
      var name = String(segment)
      var each = false
      var index: Int?
      if name.hasSuffix("[]") {
        each = true
        name.removeLast(2)
      } else if name.hasSuffix("]"), let open = name.lastIndex(of: "[") {
        guard let path = ArgumentPath(parsing: name), case .element(let element) = path.selector else {
          throw TemplateSyntaxError(
            message:
              "invalid element '\(segment)' in '{\(text)}': write 'ARG[N]' with N from 0 to \(ArgumentPath.maximumIndex), no leading zeros",
            offset: offset)
        }
        index = element
        name = String(name[..<open])
      }
      guard !name.isEmpty, isArgumentName(Substring(name)) else {
        throw TemplateSyntaxError(
          message: "invalid argument name '\(segment)' in '{\(text)}'", offset: offset)
      }
      steps.append(Step(name: name, eachElement: each, index: index))
    }
    var source = Source.arguments
    if steps.first?.name == "ctx" {
      guard steps.count == 2, !steps[0].readsElements, !steps[1].readsElements else {
        throw TemplateSyntaxError(
          message: "'{\(text)}': a launch context value is written '{ctx.KEY}'", offset: offset)
      }
      guard absence == .required else {
        throw TemplateSyntaxError(
          message: "'{\(text)}': a launch context value cannot be optional", offset: offset)
      }
      source = .context
      steps.removeFirst()
    } else if steps.first?.name == "lookup" {
      guard steps.count >= 3, !steps.contains(where: \.readsElements) else {
        throw TemplateSyntaxError(
          message: "'{\(text)}': a looked-up value is written '{lookup.NAME.FIELD}'", offset: offset)
      }
      source = .lookup(steps[1].name)
      steps.removeFirst(2)
    }
    var filters: [Filter] = []
    for name in pieces.dropFirst() {
      switch name {
      case "path": filters.append(.path(baseArgument: nil))
      case "host": filters.append(.host)
      case "domain": filters.append(.domain)
      case "lower": filters.append(.lower)
      case "sql-kind", "sql-table":
        guard filters.isEmpty, source == .arguments, absence == .required else {
          throw TemplateSyntaxError(
            message:
              "'\(name)' must be the first filter, on a required argument holding SQL text ('{query|\(name)}')",
            offset: offset)
        }
        filters.append(name == "sql-kind" ? .sqlKind : .sqlTable)
      case let text where text.hasPrefix("path:") && text.count > 5 && isArgumentName(text.dropFirst(5)):
        filters.append(.path(baseArgument: String(text.dropFirst(5))))
      default:
        let known = Filter.names.joined(separator: ", ")
        throw TemplateSyntaxError(message: "unknown filter '\(name)' (known: \(known))", offset: offset)
      }
    }
    return Placeholder(source: source, steps: steps, absence: absence, filters: filters)
  }

  private static func isArgumentName(_ name: Substring) -> Bool {
    !name.isEmpty
      && name.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
          || $0 == "-"
      }
  }

  /// Argument names the template reads: the first step of each placeholder, and the arguments that
  /// `path:ARG` filters take their base from.
  public var argumentNames: [String] {
    var names: [String] = []
    for placeholder in placeholders {
      if placeholder.source == .arguments, let first = placeholder.steps.first?.name { names.append(first) }
      for case .path(let base?) in placeholder.filters { names.append(base) }
    }
    return names
  }

  /// The launch context keys the template reads (`{ctx.KEY}`).
  public var contextKeys: [String] {
    placeholders.filter { $0.source == .context }.compactMap { $0.steps.first?.name }
  }

  /// The arguments whose SQL text the template classifies (`sql-kind`, `sql-table`).
  public var sqlArguments: [String] {
    placeholders.filter(\.usesSQL).compactMap { $0.steps.first?.name }
  }

  /// Whether the template reads the table of a SQL operation (`sql-table`).
  public var readsSQLTable: Bool {
    placeholders.contains { $0.filters.first == .sqlTable }
  }

  /// Whether the template reads anything from the call's arguments, or from what the server says
  /// (a lookup).
  public var readsArguments: Bool {
    placeholders.contains { $0.source != .context && !$0.usesSQL }
  }

  /// The lookups the template reads (`{lookup.NAME...}`).
  public var lookupNames: [String] {
    placeholders.compactMap { placeholder in
      if case .lookup(let name) = placeholder.source { return name }
      return nil
    }
  }

  /// The argument, when the template is that one placeholder alone, without filters (`{id}`).
  public var soleArgument: String? {
    guard parts.count == 1, case .placeholder(let placeholder) = parts[0], placeholder.source == .arguments,
      placeholder.steps.count == 1, !placeholder.steps[0].readsElements, placeholder.filters.isEmpty,
      placeholder.absence == .required
    else { return nil }
    return placeholder.steps[0].name
  }

  private var placeholders: [Placeholder] {
    parts.compactMap { part in
      guard case .placeholder(let placeholder) = part else { return nil }
      return placeholder
    }
  }

  /// Computes the resources for `arguments`; at most `limit` of them.
  /// `literalPaths` lets expansion syntax through the `path` filter (the tool takes paths as they
  /// are); `resolve`, when given, makes the `path` filter follow symbolic links (see
  /// `ScopeFilters.normalizedPath`).
  public func resources(
    for arguments: JSON, base: String?, limit: Int = 256, literalPaths: Bool = false,
    resolve: PathResolver? = nil
  ) throws(ScopeError) -> [Resource] {
    try resources(
      for: TemplateInput(arguments: arguments), base: base, limit: limit, literalPaths: literalPaths,
      resolve: resolve)
  }

  /// Computes the resources for a call's arguments, the launch context and the SQL operation being
  /// decided; at most `limit` of them.
  public func resources(
    for input: TemplateInput, base: String?, limit: Int = 256, literalPaths: Bool = false,
    resolve: PathResolver? = nil
  ) throws(ScopeError) -> [Resource] {
    let paths = PathOptions(base: base, literal: literalPaths, resolve: resolve)
    var results: [Resource] = [Resource(text: "", paths: [])]
    for part in parts {
      switch part {
      case .literal(let text):
        for index in results.indices { results[index].text += text }
      case .placeholder(let placeholder):
        let values = try Self.values(of: placeholder, in: input, template: source, paths: paths)
        var next: [Resource] = []
        for result in results {
          for value in values {
            next.append(Resource(text: result.text + value.text, paths: result.paths + value.paths))
            if next.count > limit {
              throw ScopeError("template '\(source)' yields more than \(limit) resources")
            }
          }
        }
        results = next
      }
    }
    return results
  }

  /// Control characters (C0, DEL, C1) and bidirectional controls: they act on a terminal or
  /// reorder text instead of showing.
  static func drawsOnScreen(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00...0x1F, 0x7F...0x9F, 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
    default: return false
    }
  }

  private struct PathOptions {
    var base: String?
    var literal: Bool
    var resolve: PathResolver?
  }

  private static func values(
    of placeholder: Placeholder, in input: TemplateInput, template: String, paths options: PathOptions
  ) throws(ScopeError) -> [Resource] {
    let arguments = input.arguments
    var current: [(value: JSON, name: String)]
    switch placeholder.source {
    case .context:
      let key = placeholder.steps[0].name
      guard let value = input.context[key] else {
        throw ScopeError(
          "the manifest reads the launch context '\(key)', which this warden was not given (warden run --context \(key)=VALUE, or context: in config.yaml) (template '\(template)')"
        )
      }
      current = [(.string(value), "ctx.\(key)")]
    case .lookup(let name):
      guard let answer = input.lookups[name] else {
        throw ScopeError("the lookup '\(name)' has no answer (template '\(template)')")
      }
      var value = answer
      var path = "lookup.\(name)"
      for step in placeholder.steps {
        path += ".\(step.name)"
        guard case .object = value, let member = value[step.name], member != .null else {
          throw ScopeError(
            "the server's answer to the lookup '\(name)' has no '\(path)' (template '\(template)')")
        }
        value = member
      }
      current = [(value, path)]
    case .arguments:
      current = [(arguments, "")]
      for step in placeholder.steps {
        var next: [(value: JSON, name: String)] = []
        for (value, name) in current {
          let path = name.isEmpty ? step.name : "\(name).\(step.name)"
          guard case .object = value else {
            throw ScopeError("argument '\(name)' must be an object (template '\(template)')")
          }
          guard let member = value[step.name], member != .null else {
            switch placeholder.absence {
            case .required: throw ScopeError("missing argument '\(path)' (template '\(template)')")
            case .nothing: continue
            case .text(let text):
              next.append((.string(text), path))
              continue
            }
          }
          if step.eachElement {
            guard case .array(let elements) = member else {
              throw ScopeError(
                "argument '\(path)' must be an array, not \(member.typeName) (template '\(template)')")
            }
            next += elements.enumerated().map { ($0.element, "\(path)[\($0.offset)]") }
          } else if let index = step.index {
            guard case .array(let elements) = member else {
              throw ScopeError(
                "argument '\(path)' must be an array, not \(member.typeName) (template '\(template)')")
            }
            let element = "\(path)[\(index)]"
            guard index < elements.count, elements[index] != .null else {
              switch placeholder.absence {
              case .required: throw ScopeError("missing argument '\(element)' (template '\(template)')")
              case .nothing: continue
              case .text(let text):
                next.append((.string(text), element))
                continue
              }
            }
            next.append((elements[index], element))
          } else {
            next.append((member, path))
          }
        }
        current = next
      }
    }
    var results: [Resource] = []
    for (value, name) in current {
      var text: String
      switch value {
      case .string(let string): text = string
      case .number(let literal): text = literal
      case .bool(let flag): text = flag ? "true" : "false"
      default:
        throw ScopeError(
          "argument '\(name)' must be a string, not \(value.typeName) (template '\(template)')")
      }
      if placeholder.usesSQL {
        // The SQL text was classified before: the value is the operation being decided.
        guard let operation = input.operation else {
          throw ScopeError(
            "template '\(template)' reads SQL operations, and the tool's rule declares no 'sql:' dialect")
        }
        if placeholder.filters.first == .sqlKind {
          text = operation.kind
        } else if let table = operation.table {
          text = table
        } else {
          continue  // an operation without a table: no resource from this template
        }
      }
      // A scope is shown to the human who decides: a value that could move the cursor, erase a
      // line or reorder text on their screen is no name of a resource.
      if let bad = text.unicodeScalars.first(where: Self.drawsOnScreen) {
        throw ScopeError(
          "argument '\(name)' holds the control character U+\(String(bad.value, radix: 16, uppercase: true)), which no resource name has (template '\(template)')"
        )
      }
      var paths: [String] = []
      for filter in placeholder.filters {
        do throws(ScopeFilterError) {
          switch filter {
          case .path(let baseArgument):
            var effectiveBase = options.base
            if let baseArgument {
              guard case .string(let raw)? = arguments[baseArgument] else {
                throw ScopeFilterError("its base argument '\(baseArgument)' is missing or not a string")
              }
              effectiveBase = try ScopeFilters.normalizedPath(
                raw, base: options.base, literal: options.literal, resolve: options.resolve)
            }
            text = try ScopeFilters.normalizedPath(
              text, base: effectiveBase, literal: options.literal, resolve: options.resolve)
            paths.append(text)
          case .host: text = try ScopeFilters.host(ofURL: text)
          case .domain: text = try ScopeFilters.domain(ofAddress: text)
          case .lower: text = ScopeFilters.asciiLowercased(text)
          case .sqlKind, .sqlTable: break  // applied above
          }
        } catch {
          throw ScopeError("argument '\(name)': \(error.message) (template '\(template)')")
        }
      }
      results.append(Resource(text: text, paths: paths))
    }
    return results
  }
}

/// What a template is computed from: the call's arguments, the launch context, and, for a rule
/// that reads SQL, the operation being decided.
public struct TemplateInput: Sendable {
  public var arguments: JSON
  public var context: [String: String]
  public var operation: SQLOperation?
  /// The answers of the tool's lookups, by name.
  public var lookups: [String: JSON]

  public init(
    arguments: JSON, context: [String: String] = [:], operation: SQLOperation? = nil,
    lookups: [String: JSON] = [:]
  ) {
    self.arguments = arguments
    self.context = context
    self.operation = operation
    self.lookups = lookups
  }
}

/// One resource a call touches, such as `repo:/srv/app`.
public struct Resource: Sendable, Equatable, Hashable, CustomStringConvertible {
  public var text: String
  /// Normalized filesystem paths that went into it (through the `path` filter).
  public var paths: [String]

  public init(text: String, paths: [String] = []) {
    self.text = text
    self.paths = paths
  }

  public var description: String { text }
}

/// A template that cannot be parsed.
public struct TemplateSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
  public var message: String
  /// Character offset in the template.
  public var offset: Int

  public var description: String { message }
}

/// Why the scopes of a call could not be computed; the call is then denied with this reason.
public struct ScopeError: Error, Sendable, Equatable, CustomStringConvertible {
  public var message: String

  public init(_ message: String) {
    self.message = message
  }

  public var description: String { message }
}

extension Substring {
  func trimmingSpaces() -> String {
    String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
  }
}
