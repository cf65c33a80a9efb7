import Testing
import WardenCore
import WardenJSON
import WardenManifest

private let userShell = #"""
  server: shell
  tools:
    shell_execute:
      rules:
        - when:
            in: {"command[0]": [ls, cat]}
            contains_none: {"command[]": [";", "&", "|", "<", ">", "`", "$", "\n", "\r"]}
          action: shell.read
          resource: ["dir:{directory|path}", "program:{command[0]}"]
        - when:
            equals: {"command[0]": git, "command[1]": log}
            absent: ["command[2]"]
          action: shell.read
          resource: ["dir:{directory|path}", "program:git"]
        - when:
            equals: {"command[0]": find}
            none: {"command[]": [-delete, -exec, -execdir, -ok, -okdir, -fprint, -fprint0, -fprintf, -fls]}
            contains_none: {"command[]": [";", "&", "|", "<", ">", "`", "$"]}
          action: shell.read
          resource: ["dir:{directory|path}", "program:find"]
      action: shell.run
      resource: ["dir:{directory|path}", "word:{command[]}"]
      destructive: true
  """#

@Suite struct ElementRuleTests {
  let manifest: Manifest

  init() throws {
    manifest = try ManifestLoader.parse(userShell, file: "shell.yaml")
  }

  func scopes(_ json: String) throws -> Result<CallScopes, ScopeDenial> {
    manifest.scopes(
      for: ToolCall(
        server: "shell", agent: "a", tool: "shell_execute", arguments: try JSONValue.parse(json).json),
      annotations: nil)
  }

  func decided(_ command: String) throws -> CallScopes {
    try scopes(#"{"command": \#(command), "directory": "/srv/app/./x/.."}"#).get()
  }

  @Test func readOnlyProgramsAndExactCommands() throws {
    let ls = try decided(#"["ls", "-la"]"#)
    #expect(ls.action == "shell.read" && !ls.destructive)
    #expect(ls.resources.map(\.text) == ["dir:/srv/app", "program:ls"])
    #expect(try decided(#"["git", "log"]"#).action == "shell.read")
    #expect(try decided(#"["find", ".", "-name", "*.swift"]"#).action == "shell.read")
    for held in [
      #"["git", "log", "-p"]"#, #"["git", "push"]"#, #"["git"]"#, #"["find", ".", "-delete"]"#,
      #"["find", ".", "-exec", "rm", "{}", ";"]"#, #"["ls", ";", "rm", "x"]"#, #"["ls", "|", "xargs", "rm"]"#,
      #"["/bin/ls"]"#, #"["ls;rm"]"#, #"["sh", "-c", "ls"]"#, #"["env", "ls"]"#,
    ] {
      let scopes = try decided(held)
      #expect(scopes.action == "shell.run" && scopes.destructive, "\(held)")
    }
    let run = try decided(#"["ls", "|", "rm", "x"]"#)
    #expect(run.resources.map(\.text) == ["dir:/srv/app", "word:ls", "word:|", "word:rm", "word:x"])
  }

  @Test func argumentsWardenCannotReadAreRefused() throws {
    for json in [
      #"{"command": ["rm", "x"]}"#, #"{"command": ["ls"], "directory": "rel"}"#,
      #"{"command": "ls", "directory": "/srv"}"#, #"{"command": [null, "rm"], "directory": "/srv"}"#,
      #"{"command": ["ls", "\nx"], "directory": "/srv"}"#, #"{"command": [["rm"]], "directory": "/srv"}"#,
    ] {
      guard case .failure(let denial) = try scopes(json) else {
        Issue.record("\(json) must be refused")
        continue
      }
      #expect(denial.kind == .badArguments, "\(json)")
    }
  }

  @Test func conditionsReadTheArrays() {
    let policy = CallPolicy(manifest: manifest, serverName: "shell", protectedPaths: [])
    #expect(policy.argumentNames(forTool: "shell_execute") == ["command", "directory"])
  }

  @Test func elementTemplates() throws {
    let template = try ResourceTemplate("program:{command[1]}")
    let args = try JSONValue.parse(#"{"command": ["a", "b"], "items": [{"id": 7}], "s": "x"}"#).json
    #expect(try template.resources(for: args, base: nil).map(\.text) == ["program:b"])
    #expect(try ResourceTemplate("{items[0].id}").resources(for: args, base: nil).map(\.text) == ["7"])
    #expect(try ResourceTemplate("{command[5]?}").resources(for: args, base: nil).isEmpty)
    #expect(
      try ResourceTemplate("{command[5]?=none}").resources(for: args, base: nil).map(\.text) == ["none"])
    #expect(throws: ScopeError.self) { try ResourceTemplate("{command[2]}").resources(for: args, base: nil) }
    #expect(throws: ScopeError.self) { try ResourceTemplate("{s[0]}").resources(for: args, base: nil) }
    #expect(throws: ScopeError.self) { try ResourceTemplate("{items[0]}").resources(for: args, base: nil) }
    #expect(try ResourceTemplate("{command[0]}").argumentNames == ["command"])
    #expect(try ResourceTemplate("{command[0]}").soleArgument == nil)
    for bad in [
      "{command[01]}", "{command[x]}", "{command[-1]}", "{command[1000000]}", "{ctx.a[0]}", "{lookup.v[0].x}",
    ] {
      #expect(throws: TemplateSyntaxError.self, "\(bad)") { try ResourceTemplate(bad) }
    }
  }

  @Test func errorsNameTheirPlace() {
    let found = problems(
      """
      server: s
      tools:
        t:
          action: s.run
          rules:
            - when: {present: ["c[]"], absent: ["c[01]"]}
              action: s.a
            - when: {none: {"c[]": []}, contains_none: {"c[]": ["", x]}}
              action: s.b
            - when: {none: {c: [{a: 1}]}, in: {"c[x]": [a]}}
              action: s.c
      """)
    #expect(found.contains { $0.hasPrefix("6:26:") && $0.contains("'present' reads one value: 'c[]'") })
    #expect(found.contains { $0.hasPrefix("6:43:") && $0.contains("invalid argument path 'c[01]'") })
    #expect(
      found.contains {
        $0.hasPrefix("8:30:") && $0.contains("'none' values of 'c[]' must be a non-empty list")
      })
    #expect(found.contains { $0.hasPrefix("8:59:") && $0.contains("must be a non-empty string") })
    #expect(found.contains { $0.hasPrefix("10:27:") && $0.contains("must be a string, number or boolean") })
    #expect(found.contains { $0.hasPrefix("10:42:") && $0.contains("invalid argument path 'c[x]'") })
  }

  @Test func unreachableElementRules() {
    let found = problems(
      """
      server: s
      tools:
        t:
          action: s.run
          rules:
            - when: {in: {"c[0]": [ls, cat]}}
              action: s.a
            - when: {equals: {"c[0]": ls}, contains_none: {"c[]": [";"]}}
              action: s.b
            - when: {absent: [c], equals: {"c[0]": ls}}
              action: s.c
            - when: {present: ["c[2]"]}
              action: s.d
            - when: {present: ["c[1]"]}
              action: s.e
            - when: {present: ["c[3]"]}
              action: s.f
            - when: {none: {"c[]": [rm, sh]}}
              action: s.g
            - when: {none: {"c[]": [rm]}, contains_none: {"c[]": [x]}}
              action: s.h
            - when: {none: {"c[]": [sh, rm, dd]}}
              action: s.i
      """)
    #expect(found.contains { $0.contains("rule 2 of tool 't' can never apply: rule 1") })
    #expect(found.contains { $0.contains("rule 3 of tool 't' can never apply: its conditions contradict") })
    #expect(!found.contains { $0.contains("rule 5 ") }, "c[1] present does not mean c[2] is")
    #expect(found.contains { $0.contains("rule 6 of tool 't' can never apply: rule 4") })
    #expect(!found.contains { $0.contains("rule 8 ") })
    #expect(found.contains { $0.contains("rule 9 of tool 't' can never apply: rule 7") })
  }
}
