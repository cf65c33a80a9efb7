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

  public enum Source: String, Sendable, Equatable {
    case manifest
    case annotations
  }

  public init(action: String, resources: [Resource], destructive: Bool, source: Source = .manifest) {
    self.action = action
    self.resources = resources
    self.destructive = destructive
    self.source = source
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
  /// tool (from its `tools/list`), used only when the manifest's policy is `annotations`.
  ///
  /// With `resolve`, every path is decided twice: as written (normalized lexically) and as the file
  /// system resolves it (symbolic links followed); both forms are among the resources, so each must
  /// be covered and a forbid on either denies.
  public func scopes(
    for call: ToolCall, annotations: ToolAnnotations?, resolve: PathResolver? = nil
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
    var resources: [Resource] = []
    for template in rule.resources {
      do throws(ScopeError) {
        let lexical = try template.resources(
          for: call.arguments, base: rule.base ?? base, literalPaths: rule.literalPaths)
        resources += lexical
        if let resolve, lexical.contains(where: { !$0.paths.isEmpty }) {
          let resolved = try template.resources(
            for: call.arguments, base: rule.base ?? base, literalPaths: rule.literalPaths, resolve: resolve)
          resources += resolved.filter { candidate in
            !resources.contains { $0.text.hasSameBytes(as: candidate.text) }
          }
        }
      } catch {
        return .failure(ScopeDenial(.badArguments, error.message))
      }
    }
    return .success(CallScopes(action: rule.action, resources: resources, destructive: rule.destructive))
  }
}
