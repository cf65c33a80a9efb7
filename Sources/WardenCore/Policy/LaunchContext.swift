import WardenJSON

/// The launch context: values a manifest reads as `{ctx.KEY}`, set when warden starts a server
/// (`warden run --context KEY=VALUE`) or pinned in `config.yaml` (`servers.NAME.context`), so one
/// manifest serves several instances of a server (`env: production` for one, `dev` for another).
public enum LaunchContext {
  /// Letters, digits, `_` and `-`.
  public static func isKey(_ key: String) -> Bool {
    !key.isEmpty
      && key.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
          || $0 == "-"
      }
  }

  /// `KEY=VALUE`, or nil when it is not one.
  public static func pair(_ text: String) -> (key: String, value: String)? {
    guard let equals = text.firstIndex(of: "=") else { return nil }
    let key = String(text[..<equals])
    guard isKey(key) else { return nil }
    return (key, String(text[text.index(after: equals)...]))
  }

  /// The command line's values, then the configuration's, which win key by key (an agent that can
  /// edit its MCP configuration cannot change what the human pinned). `overridden` lists the keys
  /// the command line set differently.
  public static func merge(commandLine: [String: String], pinned: [String: String]) -> (
    context: [String: String], overridden: [String]
  ) {
    var context = commandLine
    var overridden: [String] = []
    for (key, value) in pinned {
      if let given = context[key], !given.hasSameBytes(as: value) { overridden.append(key) }
      context[key] = value
    }
    return (context, overridden.sorted())
  }

  /// The keys every rule of `manifest` reads.
  public static func keys(readBy manifest: Manifest) -> [String] {
    var keys: Set<String> = []
    for rule in manifest.tools.values {
      for variant in rule.variants {
        keys.formUnion(variant.actionTemplate.contextKeys)
        for template in variant.resources { keys.formUnion(template.contextKeys) }
      }
      if let schema = rule.sql?.schema { keys.formUnion(schema.contextKeys) }
    }
    return keys.sorted()
  }
}
