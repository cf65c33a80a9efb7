import Testing
import WardenManifest

/// Every kind of problem, with its exact line and column.
@Suite struct ManifestErrorTests {
  @Test func misspelledKeyIsAnErrorNotASilentlyWeakerManifest() {
    let text = """
      server: git
      tools:
        git_reset:
          action: git.reset
          destructve: true
      """
    #expect(
      problems(text) == ["5:5: unknown key 'destructve' in tool 'git_reset' (did you mean 'destructive'?)"])
  }

  @Test func unknownKeysListTheKnownOnesWhenNothingIsClose() {
    let text = """
      server: git
      owner: me
      tools: {}
      """
    #expect(
      problems(text) == [
        "2:1: unknown key 'owner' (known keys: server, aliases, undeclared, base, tools, warden_env)"
      ])
  }

  @Test func missingRequiredKeys() {
    #expect(
      problems("tool: {}\n") == [
        "1:1: unknown key 'tool' (did you mean 'tools'?)",
        "1:1: missing key 'server': the name grants are written against",
        "1:1: missing key 'tools' (write 'tools: {}' for a server whose every tool is undeclared)",
      ])
    let text = """
      server: s
      tools:
        a:
          resource: "x:{y}"
      """
    #expect(problems(text) == ["3:3: tool 'a' has no 'action'"])
  }

  @Test func wrongTypes() {
    let text = """
      server: 42
      aliases: {a: b}
      undeclared: [deny]
      base: 7
      tools:
        a:
          action: yes
          resource: {x: y}
          destructive: "true"
          redact: [1, ok, [x]]
        b: just a string
        c:
      """
    #expect(
      problems(text) == [
        "1:9: 'server' must be a string, not a number ('42')",
        "2:10: 'aliases' must be a string or a list of strings, not a mapping",
        "3:13: 'undeclared' must be a string, not a list",
        "4:7: 'base' must be a string, not a number ('7')",
        "7:13: 'action' must be a string, not a boolean ('yes')",
        "8:15: 'resource' must be a string or a list of strings, not a mapping",
        "9:18: 'destructive' must be true or false, not a string",
        "10:14: each entry of 'redact' must be a string, not a number ('1')",
        "10:21: each entry of 'redact' must be a string, not a list",
        "11:6: tool 'b' must be a mapping with at least 'action', not a string",
        "12:3: tool 'c' must be a mapping with at least 'action', not null",
      ])
  }

  @Test func emptyValuesAreReportedAtTheirKey() {
    let text = """
      server: s
      tools:
        a:
          action:
          resource:
      """
    #expect(
      problems(text) == [
        "4:5: 'action' must be a string, not null",
        "5:5: 'resource' must be a string or a list of strings, not null",
      ])
  }

  @Test func toolsMustBeAMapping() {
    #expect(
      problems("server: s\ntools: [a, b]\n") == [
        "2:8: 'tools' must be a mapping of tool names to rules, not a list"
      ])
    #expect(problems("server: s\ntools: {}\n") == [])
  }

  @Test func serverAndAliasNames() {
    let text = """
      server: "my server"
      aliases: [ok-1.2_x, "", "a/b", ok-1.2_x]
      tools: {}
      """
    #expect(
      problems(text) == [
        "1:9: invalid server name 'my server': use letters, digits, '_', '.' and '-'",
        "2:21: invalid alias '': use letters, digits, '_', '.' and '-'",
        "2:25: invalid alias 'a/b': use letters, digits, '_', '.' and '-'",
        "2:32: duplicate alias 'ok-1.2_x'",
      ])
    #expect(
      problems("server: ''\ntools: {}\n") == [
        "1:9: invalid server name '': use letters, digits, '_', '.' and '-'"
      ])
    #expect(problems("server: git\naliases: [git]\ntools: {}\n") == ["2:11: duplicate alias 'git'"])
  }

  @Test func actions() {
    let text = """
      server: s
      tools:
        a: {action: git.*}
        b: {action: git..read}
        c: {action: "git read"}
        d: {action: ""}
        e: {action: .git}
        f: {action: git.read.x_y-1}
      """
    #expect(
      problems(text) == [
        "3:15: action 'git.*' contains a glob: a manifest names exactly one action, globs belong in grants",
        "4:15: invalid action 'git..read': use dot-separated names of letters, digits, '_' and '-', such as 'git.write'",
        "5:15: invalid action 'git read': use dot-separated names of letters, digits, '_' and '-', such as 'git.write'",
        "6:15: 'action' must not be empty",
        "7:15: invalid action '.git': use dot-separated names of letters, digits, '_' and '-', such as 'git.write'",
      ])
  }

  @Test func undeclaredPolicy() {
    #expect(
      problems("server: s\nundeclared: allow\ntools: {}\n") == [
        "2:13: unknown 'undeclared' policy 'allow' (one of: deny, confirm, annotations)"
      ])
  }

  @Test func basesMustBeAbsolute() {
    let text = """
      server: s
      base: srv/app
      tools:
        a:
          action: a.b
          base: ~/app
      """
    #expect(
      problems(text) == [
        "2:7: 'base' must be an absolute path, not 'srv/app'",
        "6:11: 'base' must be an absolute path, not '~/app'",
      ])
  }

  @Test func templateErrorsPointIntoTheTemplate() {
    let text = """
      server: s
      tools:
        a:
          action: a.b
          resource: "repo:{repo_path|pth}"
        b:
          action: a.b
          resource: ["ok:{x}", 'q:{y}}', "file:{files[]"]
        c:
          action: a.b
          resource: ""
      """
    #expect(
      problems(text) == [
        "5:22: invalid resource template 'repo:{repo_path|pth}': unknown filter 'pth' (known: path, path:ARG, host, domain, lower, sql-kind, sql-table)",
        "8:32: invalid resource template 'q:{y}}': unmatched '}' (write '}}' for a literal brace)",
        "8:42: invalid resource template 'file:{files[]': unclosed '{'",
        "11:15: a resource template must not be empty",
      ])
  }

  @Test func templateErrorsInEscapedTextGiveTheCharacter() {
    let text = """
      server: s
      tools:
        a:
          action: a.b
          resource: "repo:\\u007B"
      """
    #expect(problems(text) == ["5:15: invalid resource template 'repo:{': unclosed '{' (at character 6)"])
  }

  @Test func duplicateKeysAreReportedWhereTheyRecur() {
    let text = """
      server: s
      tools:
        a:
          action: x.y
          resource: "r:{x}"
          action: x.z
      """
    #expect(problems(text) == ["6:5: duplicate key 'action'"])
    let json = """
      {
        "server": "s",
        "tools": {},
        "server": "t"
      }
      """
    #expect(problems(json) == ["4:3: duplicate key 'server'"])
    #expect(problems("{server: s, tools: {}, server: t}") == ["1:2: duplicate key 'server'"])
  }

  @Test func keysThatDifferOnlyInTheirTypeAreStillDuplicates() {
    let text = """
      server: s
      tools:
        1: {action: a.b}
        "1": {action: a.c}
      """
    #expect(problems(text) == ["4:3: duplicate key '1' in 'tools'"])
  }

  @Test func keysMustBeScalars() {
    #expect(problems("server: s\ntools: {}\n? [a]\n: b\n") == ["3:3: a key must be a name, not a list"])
  }

  @Test func theRootMustBeAMapping() {
    #expect(
      problems("- server\n- tools\n") == [
        "1:1: a manifest must be a mapping with 'server' and 'tools', not a list"
      ])
    #expect(problems("") == ["0:0: the manifest is empty; it needs 'server' and 'tools'"])
    #expect(problems("# only a comment\n") == ["0:0: the manifest is empty; it needs 'server' and 'tools'"])
  }

  @Test func yamlSyntaxErrors() {
    let text = """
      server: s
      tools:
        a:
          action: a.b
         resource: x
      """
    let found = problems(text)
    #expect(found.count == 1)
    #expect(found.first?.hasPrefix("5:") == true)
    #expect(found.first?.contains("invalid yaml: ") == true)
    let twoDocuments = problems("server: s\ntools: {}\n---\nserver: t\ntools: {}\n")
    #expect(twoDocuments.count == 1)
    #expect(twoDocuments.first?.hasPrefix("3:1: invalid yaml: but found another document") == true)
  }

  @Test func everyProblemOfAFileIsReportedInOrder() {
    let text = """
      server: git
      undeclared: allow
      tools:
        git_status:
          action: git.*
          resource: "repo:{repo_path|paht}"
        git_reset:
          action: git.reset
          destructive: maybe
          redcat: [message]
      """
    #expect(
      problems(text) == [
        "2:13: unknown 'undeclared' policy 'allow' (one of: deny, confirm, annotations)",
        "5:13: action 'git.*' contains a glob: a manifest names exactly one action, globs belong in grants",
        "6:22: invalid resource template 'repo:{repo_path|paht}': unknown filter 'paht' (known: path, path:ARG, host, domain, lower, sql-kind, sql-table)",
        "9:18: 'destructive' must be true or false, not a string",
        "10:5: unknown key 'redcat' in tool 'git_reset' (did you mean 'redact'?)",
      ])
  }
}
