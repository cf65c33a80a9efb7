import Testing
import WardenCore
import WardenJSON
import WardenManifest

/// `warden manifest init`'s pure core: tools JSON in, a manifest's text out.
@Suite struct ManifestDraftTests {
  static let origin = ManifestDraft.Origin(
    command: ["uvx", "mcp-server-demo"], listedAt: "2026-11-30 06:00 UTC",
    protocolEra: "per-request (2026-07-28)")

  /// The draft of `tools` (a JSON array's text) for `server`, which must load; and the manifest.
  func draft(_ tools: String, server: String = "demo", aliases: [String] = []) throws -> (
    text: String, manifest: Manifest, result: ManifestDraft.Result
  ) {
    guard case .array(let list) = try JSONValue.parse(tools).json else {
      Issue.record("not an array")
      throw DraftTestError()
    }
    let result = ManifestDraft.make(server: server, aliases: aliases, tools: list, origin: Self.origin)
    #expect(problems(result.text) == [], "\(result.text)")
    let manifest = try ManifestLoader.parse(result.text, file: "draft.yaml")
    return (result.text, manifest, result)
  }

  struct DraftTestError: Error {}

  func tool(_ name: String, annotations: String? = nil, properties: String = "{}", required: String = "[]")
    -> String
  {
    let annotated = annotations.map { ",\"annotations\":\($0)" } ?? ""
    return """
      {"name":"\(name)","description":"Does \(name).","inputSchema":{"type":"object","properties":\(properties),"required":\(required)}\(annotated)}
      """
  }

  func scopes(_ manifest: Manifest, _ tool: String, _ arguments: String) throws -> CallScopes {
    let call = ToolCall(
      server: manifest.server, agent: "a", tool: tool, arguments: try JSONValue.parse(arguments).json)
    return try manifest.scopes(for: call, annotations: nil).get()
  }

  @Test(arguments: [
    // readOnlyHint, destructiveHint (nil: absent), destructive?
    (nil as Bool?, nil as Bool?, true),
    (true, nil, false),
    (true, true, false),
    (false, nil, true),
    (false, false, false),
    (nil, false, false),
    (false, true, true),
  ])
  func destructiveFollowsMCPDefaults(readOnly: Bool?, destructive: Bool?, expected: Bool) throws {
    var members: [String] = []
    if let readOnly { members.append("\"readOnlyHint\":\(readOnly)") }
    if let destructive { members.append("\"destructiveHint\":\(destructive)") }
    let annotations =
      members.isEmpty && readOnly == nil && destructive == nil ? nil : "{\(members.joined(separator: ","))}"
    let (text, manifest, _) = try draft("[\(tool("do_thing", annotations: annotations))]")
    #expect(manifest.tools["do_thing"]?.destructive == expected, "\(text)")
    if annotations == nil { #expect(text.contains("no annotation: MCP defaults destructiveHint to true")) }
  }

  @Test func withoutAnnotationsTheCommentSaysMCPsDefault() throws {
    let (text, manifest, _) = try draft("[\(tool("run_job"))]")
    #expect(manifest.tools["run_job"]?.destructive == true)
    #expect(text.contains("# destructive: no annotation: MCP defaults destructiveHint to true"))
  }

  @Test(arguments: [
    ("git", "git_commit", nil as String?, "git.commit"),
    ("git", "git_status", "{\"readOnlyHint\":true}", "git.read"),
    ("git", "git_reset", "{\"destructiveHint\":true}", "git.reset"),
    ("git", "git_checkout", "{\"destructiveHint\":false}", "git.checkout"),
    ("mailbox", "delete_message", nil, "mailbox.delete"),
    ("mailbox", "deleteMessage", nil, "mailbox.delete"),
    ("mail", "send_message", nil, "mail.send"),
    ("notes", "note_archive", nil, "notes.archive"),
    ("notes", "frobnicate_widget", nil, "notes.frobnicate"),
    ("notes", "get_note", nil, "notes.get"),
    ("notes", "🚀", nil, "notes.write"),
    ("my.server", "create_branch", nil, "my.server.create"),
  ])
  func actionNames(server: String, name: String, annotations: String?, expected: String) throws {
    let (text, manifest, _) = try draft("[\(tool(name, annotations: annotations))]", server: server)
    #expect(manifest.tools[name]?.variants.first?.actionTemplate.source == expected, "\(text)")
  }

  @Test func resourcesFromArguments() throws {
    let tools = [
      tool(
        "git_add", annotations: "{\"destructiveHint\":false}",
        properties: #"{"repo_path":{"type":"string"},"files":{"type":"array","items":{"type":"string"}}}"#,
        required: #"["repo_path","files"]"#),
      tool(
        "fetch", annotations: "{\"readOnlyHint\":true}",
        properties: #"{"url":{"type":"string","format":"uri"},"max_length":{"type":"integer"}}"#,
        required: #"["url"]"#),
      tool(
        "send_message",
        properties:
          #"{"to":{"type":"string","description":"Recipient address"},"cc":{"type":"string","format":"email"},"body":{"type":"string"}}"#,
        required: #"["to","body"]"#),
      tool("delete_message", properties: #"{"id":{"type":"string"}}"#, required: #"["id"]"#),
      tool("get_volume", properties: #"{"volume_id":{"type":"integer"}}"#, required: #"["volume_id"]"#),
      tool(
        "move_message", properties: #"{"id":{"type":"string"},"folder":{"type":"string"}}"#,
        required: #"["id","folder"]"#),
      tool("list_dir", properties: #"{"directory":{"type":"string"}}"#),
      tool("get_time", properties: #"{"timezone":{"type":"string"}}"#, required: #"["timezone"]"#),
    ]
    let (text, manifest, _) = try draft("[\(tools.joined(separator: ","))]")
    func resources(_ tool: String, _ arguments: String) throws -> [String] {
      try scopes(manifest, tool, arguments).resources.map(\.text)
    }
    #expect(
      try resources("git_add", #"{"repo_path":"/srv/app","files":["a.txt","/srv/app/b"]}"#) == [
        "repo:/srv/app", "file:/srv/app/a.txt", "file:/srv/app/b",
      ])
    #expect(try resources("fetch", #"{"url":"https://Example.com/x"}"#) == ["host:example.com"])
    #expect(try resources("send_message", #"{"to":"a@Example.org","body":"x"}"#) == ["domain:example.org"])
    #expect(
      try resources("send_message", #"{"to":"a@b.org","cc":"c@d.org","body":"x"}"#) == [
        "domain:b.org", "domain:d.org",
      ])
    #expect(try resources("delete_message", #"{"id":"m1"}"#) == ["message:m1"])
    #expect(try resources("get_volume", #"{"volume_id":7}"#) == ["volume:7"])
    #expect(
      try resources("move_message", #"{"id":"m1","folder":"Archive"}"#) == ["message:m1", "folder:Archive"])
    #expect(try resources("list_dir", #"{"directory":"/tmp/x/"}"#) == ["dir:/tmp/x"])
    #expect(try resources("list_dir", "{}") == [])
    #expect(try resources("get_time", #"{"timezone":"UTC"}"#) == ["server:demo"])
    #expect(text.contains("# not read: timezone"))
    #expect(text.contains("# not read: max_length"))
  }

  @Test func secretsAreRedacted() throws {
    let tools = tool(
      "login",
      properties: #"{"user":{"type":"string"},"password":{"type":"string"},"apiKey":{"type":"string"}}"#)
    let (_, manifest, _) = try draft("[\(tools)]")
    #expect(manifest.tools["login"]?.redact == ["password", "apiKey"])
  }

  @Test func aHostedRepositoryIsOwnerAndName() throws {
    let tools = [
      tool(
        "get_file_contents", annotations: "{\"readOnlyHint\":true}",
        properties: #"{"owner":{"type":"string"},"repo":{"type":"string"},"path":{"type":"string"}}"#,
        required: #"["owner","repo"]"#),
      tool(
        "git_init",
        properties: #"{"repo":{"type":"string","description":"Absolute path to the repository"}}"#,
        required: #"["repo"]"#),
    ]
    let (text, manifest, _) = try draft("[\(tools.joined(separator: ","))]")
    let hosted = try scopes(
      manifest, "get_file_contents", #"{"owner":"acme","repo":"app","path":"README.md"}"#)
    #expect(hosted.resources.map(\.text) == ["repo:acme/app"])
    #expect(text.contains("# not read: path, a path in the hosted repository"))
    #expect(
      try scopes(manifest, "git_init", #"{"repo":"/srv/app"}"#).resources.map(\.text) == ["repo:/srv/app"])
  }

  @Test func sqlWithAKnownDialectIsClassified() throws {
    let tools = tool(
      "write_query", properties: #"{"query":{"type":"string","description":"SQL to run"}}"#,
      required: #"["query"]"#)
    let (text, manifest, _) = try draft("[\(tools)]", server: "sqlite")
    #expect(text.contains("sql: sqlite"))
    #expect(manifest.tools["write_query"]?.sql != nil)
  }

  @Test func sqlOfAnUnknownDialectGetsAComment() throws {
    let tools = tool("run_query", properties: #"{"sql":{"type":"string"}}"#, required: #"["sql"]"#)
    let (text, manifest, _) = try draft("[\(tools)]", server: "warehouse")
    #expect(manifest.tools["run_query"]?.sql == nil)
    #expect(text.contains("looks like SQL of a dialect warden cannot tell"))
  }

  @Test func hostileNamesAndDescriptionsStayInTheirPlace() throws {
    let tools = #"""
      [
        {"name":"evil\nname","inputSchema":{"type":"object"}},
        {"name":"x: {y: 1}","description":"ok\u2028  injected: true\ntools:\n  pwn:\n    action: a.b",
         "annotations":{"readOnlyHint":true},
         "inputSchema":{"type":"object","properties":{"a.b":{"type":"string"},"{x}":{"type":"string"}}}},
        {"name":"# not a comment","description":"\u202eeman\u202c \u001b[31mred\u0085next","annotations":{"readOnlyHint":"yes"},
         "inputSchema":{"type":"object","properties":{"path":{"type":"string"}}}},
        {"name":"true","description":"\"q\" 'single' \\ #hash","annotations":{"readOnlyHint":true},
         "inputSchema":{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}},
        {"name":"true","inputSchema":{"type":"object"}},
        {"name":"caf\u00e9","inputSchema":{"type":"object"}},
        {"name":"\u202ebidi","inputSchema":{"type":"object"}},
        {"name":"bad\uFFFEchar","inputSchema":{"type":"object"}},
        {"description":"no name"},
        {"name":"pwn","description":"\n\n\n"}
      ]
      """#
    let (text, manifest, result) = try draft(tools)
    #expect(Set(manifest.tools.keys) == ["x: {y: 1}", "# not a comment", "true", "café", "pwn"])
    #expect(result.skipped.map(\.name) == ["evil\nname", "true", "\u{202E}bidi", "bad\u{FFFE}char"])
    #expect(manifest.tools["x: {y: 1}"]?.destructive == false)
    #expect(manifest.tools["# not a comment"]?.destructive == true, "a string readOnlyHint is no hint")
    #expect(manifest.tools["pwn"]?.variants.first?.actionTemplate.source == "demo.pwn")
    // No line of the draft but the ones it writes itself: every line from a description is a comment.
    for line in text.split(separator: "\n") {
      #expect(!line.contains("injected: true") || line.hasPrefix("  #"), "\(line)")
      #expect(
        !line.unicodeScalars.contains {
          $0.value == 0x2028 || $0.value == 0x85 || $0.value == 0x1B || $0.value == 0x202E
        })
    }
    #expect(text.contains("cannot be named in a template"))
  }

  @Test func aNameTooLongForAYAMLKeyIsLeftOut() throws {
    let long = String(repeating: "\\\"", count: 600)
    let (_, manifest, result) = try draft("[\(tool("ok_tool")), {\"name\":\"\(long)\"}]")
    #expect(Array(manifest.tools.keys) == ["ok_tool"])
    #expect(result.skipped.first?.reason == "its name is longer than 256 characters")
  }

  @Test func headerNamesTheCommandAndWhatToReview() throws {
    let (text, manifest, _) = try draft(
      "[\(tool("git_status", annotations: "{\"readOnlyHint\":true}"))]", server: "git",
      aliases: ["mcp-server-git"])
    #expect(text.hasPrefix("# DRAFT warden manifest for the server 'git'"))
    #expect(text.contains("uvx mcp-server-demo"))
    #expect(text.contains("2026-11-30 06:00 UTC"))
    #expect(text.contains("warden manifest show git"))
    #expect(manifest.aliases == ["mcp-server-git"])
    #expect(manifest.undeclared == .deny)
  }

  @Test func noToolsStillLints() throws {
    let (_, manifest, _) = try draft("[]")
    #expect(manifest.tools.isEmpty)
  }

  @Test(arguments: [
    (["uvx", "mcp-server-git"], "git"),
    (["python", "-m", "mcp_server_time"], "time"),
    (["python3", "-m", "mcp_server_fetch"], "fetch"),
    (["/opt/bin/warden-example-mailbox"], "mailbox"),
    (["npx", "-y", "@acme/notes-mcp"], "notes"),
    (["uvx", "mcp-server-weather"], "weather"),
    (["python", "servers/drafting.py", "--era", "handshake"], "drafting"),
    (["./My Server!.py"], "myserver"),
  ])
  func serverNames(command: [String], expected: String) {
    #expect(DraftNaming.serverName(for: command) == expected)
  }
}
