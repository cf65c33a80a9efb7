import WardenJSON

/// One `tools/call` as the decision sees it.
public struct ToolCall: Sendable, Equatable {
  /// The canonical server name (the manifest's `server`).
  public var server: String
  /// The agent identity: `--agent`, else the client's self-reported name.
  public var agent: String
  public var tool: String
  /// The call's `arguments` (an object; `{}` when absent).
  public var arguments: JSON

  public init(server: String, agent: String, tool: String, arguments: JSON) {
    self.server = server
    self.agent = agent
    self.tool = tool
    self.arguments = arguments
  }
}

/// What a call means: its action, the resources it touches, and whether it is destructive.
public struct CallScopes: Sendable, Equatable {
  public var action: String
  public var resources: [Resource]
  public var destructive: Bool
  /// How the scopes were found: from the manifest, or from the server's annotations.
  public var source: Source
  /// A call that does several things (SQL text whose statements act on several tables in several
  /// ways): each operation, decided on its own; `action`, `resources` and `destructive` then sum
  /// them up for people. Empty for a call that does one thing.
  public var operations: [Operation]

  /// One thing a call does, decided like a call of its own: all of a call's operations must be
  /// allowed for it to run.
  public struct Operation: Sendable, Equatable {
    public var action: String
    public var resources: [Resource]
    public var destructive: Bool

    public init(action: String, resources: [Resource], destructive: Bool) {
      self.action = action
      self.resources = resources
      self.destructive = destructive
    }
  }

  public enum Source: String, Sendable, Equatable {
    case manifest
    case annotations
  }

  public init(action: String, resources: [Resource], destructive: Bool, source: Source = .manifest) {
    self.action = action
    self.resources = resources
    self.destructive = destructive
    self.source = source
    self.operations = []
  }

  /// The scopes of a call made of `operations` (one: that one; several: their sum, each kept).
  public init(operations: [Operation]) {
    if operations.count == 1 {
      self.init(
        action: operations[0].action, resources: operations[0].resources,
        destructive: operations[0].destructive)
      return
    }
    var merged: [Operation] = []
    for operation in operations {
      if let index = merged.firstIndex(where: { $0.action.hasSameBytes(as: operation.action) }) {
        merged[index].destructive = merged[index].destructive || operation.destructive
        for resource in operation.resources
        where !merged[index].resources.contains(where: { $0.text.hasSameBytes(as: resource.text) }) {
          merged[index].resources.append(resource)
        }
      } else {
        merged.append(operation)
      }
    }
    if merged.count == 1 {
      self.init(action: merged[0].action, resources: merged[0].resources, destructive: merged[0].destructive)
      return
    }
    var resources: [Resource] = []
    for resource in merged.flatMap(\.resources)
    where !resources.contains(where: { $0.text.hasSameBytes(as: resource.text) }) {
      resources.append(resource)
    }
    self.init(
      action: merged.map(\.action).joined(separator: ", "), resources: resources,
      destructive: merged.contains(where: \.destructive))
    self.operations = merged
  }
}

/// A server's MCP tool annotations: hints, untrusted unless the manifest opts in.
public struct ToolAnnotations: Sendable, Equatable {
  public var readOnly: Bool?
  public var destructive: Bool?

  public init(readOnly: Bool? = nil, destructive: Bool? = nil) {
    self.readOnly = readOnly
    self.destructive = destructive
  }
}

/// Why a call has no scopes and must not run.
public struct ScopeDenial: Error, Sendable, Equatable {
  public enum Kind: String, Sendable, Equatable {
    /// No manifest is loaded for this server.
    case noManifest = "no-manifest"
    /// The manifest does not declare the tool and its policy is `deny`.
    case undeclared
    /// The manifest does not declare the tool and its policy is `confirm`.
    case undeclaredConfirm = "undeclared-confirm"
    /// The arguments do not fit the manifest's templates (missing, wrongly typed, ambiguous).
    case badArguments = "bad-arguments"
  }

  public var kind: Kind
  public var message: String

  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }
}

extension Manifest {
  /// Computes what `call` means under this manifest. `annotations` are the server's hints for the
  /// tool (from its `tools/list`), used only when the manifest's policy is `annotations`;
  /// `context` is the launch context (`{ctx.KEY}`); `sql` classifies the SQL text of rules that
  /// declare `sql:` (without one, such calls are refused).
  ///
  /// With `resolve`, every path is decided twice: as written (normalized lexically) and as the file
  /// system resolves it (symbolic links followed); both forms are among the resources, so each must
  /// be covered and a forbid on either denies.
  public func scopes(
    for call: ToolCall, annotations: ToolAnnotations?, resolve: PathResolver? = nil,
    context: [String: String] = [:], sql: (any SQLClassifying)? = nil, lookups: [String: JSON] = [:]
  ) -> Result<CallScopes, ScopeDenial> {
    // Tool names are compared as bytes: a canonically equivalent name is another tool to the server.
    guard let index = tools.index(forKey: call.tool), tools[index].key.hasSameBytes(as: call.tool) else {
      switch undeclared {
      case .deny:
        return .failure(
          ScopeDenial(
            .undeclared, "tool '\(call.tool)' is not declared in the manifest for server '\(server)'"))
      case .confirm:
        return .failure(
          ScopeDenial(
            .undeclaredConfirm,
            "tool '\(call.tool)' is not declared in the manifest for server '\(server)', whose policy for undeclared tools is to ask a human"
          ))
      case .annotations:
        // Unknown hints default as MCP specifies: not read-only, destructive.
        let readOnly = annotations?.readOnly ?? false
        let destructive = !readOnly && (annotations?.destructive ?? true)
        return .success(
          CallScopes(
            action: "\(server).\(readOnly ? "read" : "write")",
            resources: [Resource(text: "tool:\(call.tool)")], destructive: destructive, source: .annotations))
      }
    }
    guard case .object = call.arguments else {
      return .failure(ScopeDenial(.badArguments, "the arguments of '\(call.tool)' must be an object"))
    }
    let rule = tools[index].value
    guard let variant = rule.variant(for: call.arguments) else {
      return .failure(
        ScopeDenial(
          .badArguments,
          "no rule of tool '\(call.tool)' in the manifest for server '\(server)' applies to these arguments"))
    }
    do throws(ScopeError) {
      return .success(
        try scopes(
          of: variant, rule: rule,
          input: TemplateInput(arguments: call.arguments, context: context, lookups: lookups),
          resolve: resolve, sql: sql))
    } catch {
      return .failure(ScopeDenial(.badArguments, error.message))
    }
  }

  private func scopes(
    of variant: ToolRule.Variant, rule: ToolRule, input: TemplateInput, resolve: PathResolver?,
    sql: (any SQLClassifying)?
  ) throws(ScopeError) -> CallScopes {
    guard variant.readsSQL else {
      return CallScopes(
        operations: [try operation(of: variant, rule: rule, input: input, resolve: resolve, kind: nil)])
    }
    var input = input
    var operations: [CallScopes.Operation] = []
    for sqlOperation in try sqlOperations(of: variant, rule: rule, input: input, classifier: sql) {
      input.operation = sqlOperation
      operations.append(
        try operation(of: variant, rule: rule, input: input, resolve: resolve, kind: sqlOperation.kind))
    }
    return CallScopes(operations: operations)
  }

  /// One operation of a call under `variant`: its action, resources and destructiveness.
  private func operation(
    of variant: ToolRule.Variant, rule: ToolRule, input: TemplateInput, resolve: PathResolver?, kind: String?
  ) throws(ScopeError) -> CallScopes.Operation {
    let action = try Self.action(of: variant, input: input)
    var resources: [Resource] = []
    for template in variant.resources {
      let lexical = try template.resources(
        for: input, base: rule.base ?? base, literalPaths: rule.literalPaths)
      resources += lexical
      if let resolve, lexical.contains(where: { !$0.paths.isEmpty }) {
        let resolved = try template.resources(
          for: input, base: rule.base ?? base, literalPaths: rule.literalPaths, resolve: resolve)
        resources += resolved.filter { candidate in
          !resources.contains { $0.text.hasSameBytes(as: candidate.text) }
        }
      }
    }
    let destructive = variant.destructive || kind.map { variant.destructiveKinds.contains($0) } ?? false
    return CallScopes.Operation(action: action, resources: resources, destructive: destructive)
  }

  /// The action of `variant` for `input`: exactly one dotted name.
  private static func action(of variant: ToolRule.Variant, input: TemplateInput) throws(ScopeError) -> String
  {
    let template = variant.actionTemplate
    if template.isLiteral { return template.source }
    let values = try template.resources(for: input, base: nil)
    guard values.count == 1, let action = values.first?.text, isActionName(action) else {
      throw ScopeError(
        "action template '\(template.source)' gives \(values.map { "'\($0.text)'" }.joined(separator: ", ")), not one action name"
      )
    }
    return action
  }

  /// A dotted name of letters, digits, `_` and `-`, with no empty segment.
  public static func isActionName(_ text: String) -> Bool {
    let segments = text.split(separator: ".", omittingEmptySubsequences: false)
    return !text.isEmpty
      && segments.allSatisfy { segment in
        !segment.isEmpty
          && segment.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
              || $0 == "-"
          }
      }
  }

  /// The operations of the SQL text the variant reads, classified by the dialect's parser.
  private func sqlOperations(
    of variant: ToolRule.Variant, rule: ToolRule, input: TemplateInput, classifier: (any SQLClassifying)?
  ) throws(ScopeError) -> [SQLOperation] {
    guard let settings = rule.sql else {
      throw ScopeError("the rule reads SQL (sql-kind, sql-table) and declares no 'sql:' dialect")
    }
    let names = Set(variant.actionTemplate.sqlArguments + variant.resources.flatMap(\.sqlArguments))
    guard names.count == 1, let name = names.first else {
      throw ScopeError(
        "the rule reads SQL from several arguments (\(names.sorted().joined(separator: ", ")))")
    }
    guard let classifier else {
      throw ScopeError("this warden has no SQL classifier, so it cannot tell what the SQL in '\(name)' does")
    }
    guard case .string(let text)? = input.arguments[name] else {
      throw ScopeError("argument '\(name)' must be a string of SQL")
    }
    var schema: String?
    if let template = settings.schema {
      let values = try template.resources(for: input, base: nil)
      guard values.count == 1 else { throw ScopeError("the SQL schema template gives no single path") }
      schema = values[0].text
    }
    let operations: [SQLOperation]
    do throws(SQLClassificationError) {
      operations = try classifier.operations(in: text, dialect: settings.dialect, schema: schema)
    } catch {
      throw ScopeError("the SQL in '\(name)' cannot be classified: \(error.message)")
    }
    guard !operations.isEmpty else { throw ScopeError("the SQL in '\(name)' does nothing warden can name") }
    return operations
  }
}
