import Testing
import WardenCore
import WardenJSON

/// The decision corpus: each file in Fixtures/decisions holds a manifest, a set of grants and forbids,
/// a clock, and cases (a call and the expected verdict, reason and grants). Adding a case is adding a
/// line of JSON; the runner names the file and case of any mismatch.
@Suite("Decision corpus")
struct DecisionCorpusTests {
  static let directory = String(#filePath.dropLast("DecisionCorpusTests.swift".count)) + "Fixtures/decisions/"

  static var files: [String] {
    let names = (try? listDirectory(directory)) ?? []
    return names.filter { $0.hasSuffix(".json") }.sorted()
  }

  @Test func theCorpusIsThere() {
    #expect(Self.files.count >= 8, "fixtures missing from \(Self.directory)")
  }

  @Test(arguments: files)
  func corpus(_ file: String) throws {
    let fixture = try JSONValue.parse(Array(try readFile(Self.directory + file)))
    let manifest = try Self.manifest(fixture["manifest"])
    let now = try #require(Timestamps.parse(fixture["now"]?.stringValue ?? ""), "\(file): bad 'now'")
    let grants = try (0..<(fixture["grants"]?.count ?? 0)).map {
      try Self.grant(fixture["grants"]![$0]!, now: now)
    }
    var usage: [String: Int] = [:]
    for index in 0..<(fixture["grants"]?.count ?? 0) {
      if let used = fixture["grants"]![index]!["used"]?.integerValue {
        usage[grants[index].id] = Int(used)
      }
    }
    let protectedPaths = (0..<(fixture["protected"]?.count ?? 0)).compactMap {
      fixture["protected"]![$0]?.stringValue
    }
    let cases = try #require(fixture["cases"], "\(file): no cases")
    #expect(cases.count > 0)
    for index in 0..<cases.count {
      let testCase = cases[index]!
      let name = "\(file) case \(index) (\(testCase["name"]?.stringValue ?? "unnamed"))"
      let call = ToolCall(
        server: testCase["server"]?.stringValue ?? manifest?.server ?? "server",
        agent: testCase["agent"]?.stringValue ?? "agent",
        tool: testCase["tool"]?.stringValue ?? "",
        arguments: testCase["arguments"]?.json ?? .object([]))
      let scopes: Result<CallScopes, ScopeDenial> =
        manifest.map {
          $0.scopes(
            for: call, annotations: Self.annotations(testCase["annotations"]),
            resolve: Self.resolver(fixture["links"]))
        }
        ?? .failure(ScopeDenial(.noManifest, "no manifest"))
      let at = testCase["at"]?.stringValue.flatMap(Timestamps.parse) ?? now
      let decision = Authorizer.authorize(
        call: call, scopes: scopes, grants: grants, now: at, protectedPaths: protectedPaths, usage: usage)
      #expect(
        decision.verdict.rawValue == testCase["expect"]?.stringValue, "\(name): \(decision.explanation)")
      if let reason = testCase["reason"]?.stringValue {
        #expect(decision.reason.rawValue == reason, "\(name): \(decision.explanation)")
      }
      if let expectedGrants = testCase["grants"] {
        let ids = (0..<expectedGrants.count).compactMap { expectedGrants[$0]?.stringValue }
        #expect(decision.grants.map(\.id) == ids, "\(name)")
      }
      if let forbid = testCase["forbid"]?.stringValue {
        #expect(decision.forbid?.id == forbid, "\(name)")
      }
      if let resources = testCase["resources"] {
        let expected = (0..<resources.count).compactMap { resources[$0]?.stringValue }
        #expect(decision.scopes?.resources.map(\.text) == expected, "\(name)")
      }
      if let uncovered = testCase["uncovered"] {
        let expected = (0..<uncovered.count).compactMap { uncovered[$0]?.stringValue }
        #expect(decision.uncovered.map(\.text) == expected, "\(name)")
      }
      if let fragment = testCase["explains"]?.stringValue {
        #expect(decision.explanation.contains(fragment), "\(name): \(decision.explanation)")
      }
    }
  }

  /// A file system of symbolic links only (`"links": {"/repos/app/link": "/repos/prod"}`), walked
  /// the way `FileSystemPaths.resolve` walks the real one; nil when the fixture has none.
  static func resolver(_ value: JSONValue?) -> PathResolver? {
    guard let value, value.kind == .object else { return nil }
    var links: [String: String] = [:]
    for key in value.keys { links[key] = value[key]?.stringValue }
    let table = links
    return { path in
      var resolved: [Substring] = []
      var pending = Array(path.split(separator: "/").reversed())
      var followed = 0
      while let component = pending.popLast() {
        if component == "." { continue }
        if component == ".." {
          if !resolved.isEmpty { resolved.removeLast() }
          continue
        }
        let candidate = "/" + (resolved + [component]).joined(separator: "/")
        if let target = table[candidate] {
          followed += 1
          if followed > 40 { return nil }
          if target.hasPrefix("/") { resolved.removeAll() }
          pending += target.split(separator: "/").reversed()
        } else {
          resolved.append(component)
        }
      }
      return "/" + resolved.joined(separator: "/")
    }
  }

  static func manifest(_ value: JSONValue?) throws -> Manifest? {
    guard let value, value.kind == .object else { return nil }
    var tools: [String: ToolRule] = [:]
    if let toolsValue = value["tools"] {
      for name in toolsValue.keys {
        let rule = toolsValue[name]!
        var templates: [ResourceTemplate] = []
        if let resource = rule["resource"] {
          let texts =
            resource.kind == .array
            ? (0..<resource.count).compactMap { resource[$0]?.stringValue } : [resource.stringValue ?? ""]
          templates = try texts.map { try ResourceTemplate($0) }
        }
        tools[name] = ToolRule(
          action: rule["action"]?.stringValue ?? "", resources: templates,
          destructive: rule["destructive"]?.boolValue ?? false, base: rule["base"]?.stringValue,
          literalPaths: rule["literal_paths"]?.boolValue ?? false)
      }
    }
    return Manifest(
      server: value["server"]?.stringValue ?? "server",
      undeclared: UndeclaredPolicy(rawValue: value["undeclared"]?.stringValue ?? "deny") ?? .deny,
      base: value["base"]?.stringValue, tools: tools)
  }

  static func grant(_ value: JSONValue, now: Int64) throws -> Grant {
    func strings(_ key: String) -> [String] {
      guard let array = value[key] else { return [] }
      if array.kind == .string { return [array.stringValue!] }
      return (0..<array.count).compactMap { array[$0]?.stringValue }
    }
    func instant(_ key: String) throws -> Int64? {
      guard let text = value[key]?.stringValue else { return nil }
      guard let instant = Timestamps.parse(text) else { throw FixtureError(message: "bad time '\(text)'") }
      return instant
    }
    let id = value["id"]?.stringValue ?? "g"
    let effect = Grant.Effect(rawValue: value["effect"]?.stringValue ?? "allow") ?? .allow
    var rateLimit: RateLimit?
    if let rate = value["rate"]?.stringValue {
      let parts = rate.split(separator: "/")
      rateLimit = RateLimit(count: Int(parts[0])!, periodMilliseconds: Durations.parse(String(parts[1]))!)
    }
    let defaultExpiry: Int64? = effect == .allow ? now + 3_600_000 : nil
    return Grant(
      id: id, effect: effect, actions: strings("actions"), resources: strings("resources"),
      agent: value["agent"]?.stringValue ?? "*", server: value["server"]?.stringValue ?? "*",
      confirm: strings("confirm"), reviewed: strings("reviewed"),
      purpose: value["purpose"]?.stringValue ?? "purpose of \(id)",
      issuedBy: "tester", issuedAt: now - 60_000, expiresAt: try instant("expires") ?? defaultExpiry,
      rateLimit: rateLimit, parentID: value["parent"]?.stringValue,
      revokedAt: try instant("revoked"))
  }

  static func annotations(_ value: JSONValue?) -> ToolAnnotations? {
    guard let value else { return nil }
    return ToolAnnotations(
      readOnly: value["readOnlyHint"]?.boolValue, destructive: value["destructiveHint"]?.boolValue)
  }
}
