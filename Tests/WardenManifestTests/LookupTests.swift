import Testing
import WardenCore
import WardenJSON
import WardenManifest

@Suite struct LookupTests {
  static let manifestText = """
    server: cloud
    tools:
      get_volume:
        action: cloud.read
        resource: "volume:{volume_id}"
      delete_volume:
        lookup:
          volume:
            tool: get_volume
            arguments: {volume_id: "{volume_id}", region: "{ctx.region}"}
        action: cloud.delete
        resource: "env:{lookup.volume.environment}/volume:{volume_id}"
        destructive: true
    """

  func call(_ arguments: String) throws -> ToolCall {
    ToolCall(
      server: "cloud", agent: "a", tool: "delete_volume", arguments: try JSONValue.parse(arguments).json)
  }

  @Test func requestsAndScopes() throws {
    let manifest = try ManifestLoader.parse(Self.manifestText, file: "m.yaml")
    let requests = try manifest.lookupRequests(for: try call(#"{"volume_id": 7}"#), context: ["region": "eu"])
    #expect(requests.count == 1 && requests[0].tool == "get_volume" && requests[0].name == "volume")
    // A lone placeholder passes the argument's value as it is (here a number); others are text.
    #expect(requests[0].arguments.canonicalText == #"{"region":"eu","volume_id":7}"#)
    #expect(requests[0].cacheKey == "get_volume\u{0}" + #"{"region":"eu","volume_id":7}"#)
    #expect(throws: ScopeError.self) {
      try manifest.lookupRequests(for: try call("{}"), context: ["region": "eu"])
    }
    #expect(
      try manifest.lookupRequests(
        for: ToolCall(server: "cloud", agent: "a", tool: "get_volume", arguments: .object([])), context: [:]
      ).isEmpty)

    let answer = try JSONValue.parse(#"{"id": "v", "environment": "production"}"#).json
    let scopes = try manifest.scopes(
      for: try call(#"{"volume_id": "v"}"#), annotations: nil, lookups: ["volume": answer]
    ).get()
    #expect(scopes.resources.map(\.text) == ["env:production/volume:v"])
    for missing in [
      [:], ["volume": try JSONValue.parse(#"{"id": "v"}"#).json],
      ["volume": try JSONValue.parse(#"{"environment": {"name": "x"}}"#).json],
    ] {
      guard
        case .failure(let denial) = manifest.scopes(
          for: try call(#"{"volume_id": "v"}"#), annotations: nil, lookups: missing)
      else {
        Issue.record("an answer without the value must deny")
        continue
      }
      #expect(denial.kind == .badArguments)
    }
  }

  @Test func answersAreReadStrictly() throws {
    func answer(_ text: String) throws -> Result<JSON, ScopeError> {
      Lookup.answer(fromResponse: try JSONValue.parse(text))
    }
    #expect(
      try answer(#"{"id":1,"result":{"structuredContent":{"environment":"staging"},"content":[]}}"#)
        == .success(.object([JSON.Member("environment", .string("staging"))])))
    #expect(
      try answer(#"{"id":1,"result":{"content":[{"type":"text","text":"{\"environment\":\"dev\"}"}]}}"#)
        == .success(.object([JSON.Member("environment", .string("dev"))])))
    for bad in [
      #"{"id":1,"error":{"code":-32602,"message":"no such tool"}}"#,
      #"{"id":1,"result":{"isError":true,"structuredContent":{"environment":"staging"}}}"#,
      #"{"id":1,"result":{"resultType":"input_required","inputRequests":{}}}"#,
      #"{"id":1,"result":{"content":[{"type":"text","text":"staging"}]}}"#,
      #"{"id":1,"result":{"content":[{"type":"text","text":"[1]"}]}}"#,
      #"{"id":1,"result":{"structuredContent":["staging"]}}"#,
      #"{"id":1,"result":42}"#,
    ] {
      guard case .failure = try answer(bad) else {
        Issue.record("'\(bad)' must not be an answer")
        continue
      }
    }
  }

  @Test func lookupsAreChecked() {
    let base = "server: s\ntools:\n  get:\n    action: s.read\n"
    #expect(
      problems(base + "  del:\n    lookup: {v: {tool: nope, arguments: {}}}\n    action: s.del\n").contains {
        $0.contains("calls 'nope', which the manifest does not declare")
      })
    #expect(
      problems(
        "server: s\ntools:\n  get:\n    action: s.read\n    destructive: true\n  del:\n    lookup: {v: {tool: get}}\n    action: s.del\n"
      ).contains {
        $0.contains("which is destructive")
      })
    #expect(
      problems(base + "  del:\n    action: s.del\n    resource: \"x:{lookup.v.env}\"\n").contains {
        $0.contains("declares no lookup 'v'")
      })
    #expect(
      problems(base + "  del:\n    lookup: {v: {tool: get}}\n    action: \"s.{lookup.v.kind}\"\n").contains {
        $0.contains("reads the call's arguments")
      })
    #expect(
      problems(base + "  del:\n    lookup: {v: {arguments: {}}}\n    action: s.del\n").contains {
        $0.contains("has no 'tool'")
      })
    #expect(
      problems(
        base + "  del:\n    lookup: {v: {tool: get}}\n    action: s.del\n    resource: \"x:{lookup.v}\"\n"
      ).contains {
        $0.contains("'{lookup.NAME.FIELD}'")
      })
    #expect(
      problems(
        base
          + "  del:\n    lookup: {v: {tool: get, arguments: {id: \"{x}\"}}}\n    action: s.del\n    resource: \"x:{lookup.v.env}\"\n"
      ).isEmpty)
  }
}
