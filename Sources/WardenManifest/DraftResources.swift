/// The resources a draft guesses for a tool, one argument at a time, from the argument's name,
/// type, `format` and description: paths, URLs, e-mail addresses, ids and named containers. An
/// argument none of these fits is listed for the human to look at, never guessed.
enum DraftResources {
  /// What the arguments of one tool gave.
  struct Guess {
    /// Templates, with why each was chosen.
    var templates: [(template: String, reason: String)] = []
    /// Arguments that select nothing the draft could tell.
    var unread: [String] = []
    /// Arguments a template cannot name (characters outside letters, digits, `_`, `-`).
    var unnamable: [String] = []
    /// The argument that looks like SQL, if any.
    var sql: DraftArgument?
    /// Path arguments of a tool on a hosted repository: paths there, not on this machine.
    var hostedPaths: [String] = []
  }

  static func guess(for tool: DraftTool, server: String) -> Guess {
    var guess = Guess()
    let repository = tool.arguments.first { isNamable($0.name) && kind(of: $0) == .repository && $0.required }
    // `owner` and `repo` (GitHub, GitLab): one resource, `repo:OWNER/NAME`; its paths are the host's.
    let owner = tool.arguments.first { $0.name == "owner" && $0.holdsText }
    let hostedRepository = tool.arguments.first {
      isNamable($0.name) && kind(of: $0) == .container("repo") && $0.holdsText
    }
    if let owner, let hostedRepository {
      let template =
        "repo:{owner\(owner.required ? "" : "?")}/{\(hostedRepository.name)\(hostedRepository.required ? "" : "?")}"
      guess.templates.append((template, "'owner' and '\(hostedRepository.name)' name a hosted repository"))
    }
    for argument in tool.arguments {
      guard isNamable(argument.name) else {
        guess.unnamable.append(argument.name)
        continue
      }
      let name = argument.name
      let optional = argument.required ? "" : "?"
      let each = argument.holdsTextElements ? "[]" : ""
      let kind = kind(of: argument)
      if owner != nil, let hostedRepository {
        if name == "owner" || name == hostedRepository.name { continue }
        if kind == .file || kind == .directory {
          guess.hostedPaths.append(name)
          continue
        }
      }
      switch kind {
      case .repository:
        guess.templates.append(
          ("repo:{\(name)\(each)\(optional)|path}", "'\(name)' names a repository's path"))
      case .directory:
        guess.templates.append(("dir:{\(name)\(each)\(optional)|path}", "'\(name)' names a directory"))
      case .file:
        // Relative file names are resolved against the repository, as git servers do.
        if let repository, repository.name != name {
          guess.templates.append(
            (
              "file:{\(name)\(each)\(optional)|path:\(repository.name)}",
              "'\(name)' names files, relative ones inside '\(repository.name)'"
            ))
        } else {
          guess.templates.append(("file:{\(name)\(each)\(optional)|path}", "'\(name)' names a file's path"))
        }
      case .url:
        guess.templates.append(("host:{\(name)\(each)\(optional)|host}", "'\(name)' is a URL: its host"))
      case .email:
        guess.templates.append(
          ("domain:{\(name)\(each)\(optional)|domain}", "'\(name)' is an e-mail address: its domain"))
      case .identifier(let noun):
        let thing = noun ?? DraftNaming.noun(for: tool, server: server) ?? "item"
        guess.templates.append(("\(thing):{\(name)\(each)\(optional)}", "'\(name)' is the id of a \(thing)"))
      case .container(let noun):
        guess.templates.append(("\(noun):{\(name)\(each)\(optional)}", "'\(name)' names a \(noun)"))
      case .sql:
        guess.sql = argument
      case .none:
        guess.unread.append(name)
      }
    }
    return guess
  }

  enum Kind: Equatable {
    case repository, directory, file, url, email, sql, none
    case identifier(String?)
    case container(String)
  }

  /// What an argument names, from the strongest sign to the weakest: its `format`, its name, its
  /// description. Only text (or arrays of text) names anything; ids may also be numbers.
  static func kind(of argument: DraftArgument) -> Kind {
    let words = DraftNaming.words(argument.name)
    let last = words.last ?? ""
    let isText = argument.holdsText || argument.holdsTextElements
    let isNumber = argument.type == "integer" || argument.type == "number"
    if last == "id" || last == "ids" || last == "uuid" {
      guard isText || isNumber else { return .none }
      let noun = words.count > 1 ? words[words.count - 2] : nil
      return .identifier(noun.map(DraftNaming.singular))
    }
    guard isText else { return .none }
    switch argument.format {
    case "uri", "url", "iri", "uri-reference": return .url
    case "email", "idn-email": return .email
    default: break
    }
    if words.contains("repo") || words.contains("repository") {
      if pathWords.contains(last) { return .repository }
      // A bare `repo` is a path only when described so; on hosted services it is a name.
      if last == "repo" || last == "repository" {
        return mentionsPath(argument) ? .repository : .container("repo")
      }
    }
    // A folder is a directory only when described as a path: mail and cloud folders are names.
    if ["dir", "directory", "cwd", "workdir"].contains(last) || (last == "folder" && mentionsPath(argument)) {
      return .directory
    }
    if pathWords.contains(last) || ["file", "files", "filename", "filepath"].contains(last) { return .file }
    if ["url", "urls", "uri", "link", "endpoint"].contains(last) { return .url }
    if words.contains("email") || words.contains("emails")
      || (["to", "cc", "bcc", "recipient", "recipients", "sender"].contains(last) && mentionsEmail(argument))
    {
      return .email
    }
    if ["sql", "statement"].contains(last) || (last == "query" && mentionsSQL(argument)) { return .sql }
    if let container = containers.first(where: { $0 == last }) { return .container(container) }
    if mentionsPath(argument) { return .file }
    return .none
  }

  /// Last words of an argument that holds a path.
  static let pathWords: Set<String> = ["path", "paths"]

  /// Names of places things live in, a resource of their own (`folder:Archive`).
  static let containers = ["folder", "mailbox", "bucket", "channel", "calendar", "project", "namespace"]

  private static func mentionsPath(_ argument: DraftArgument) -> Bool {
    ["absolute path", "file path", "path to", "path of", "directory path", "filesystem path"].contains {
      argument.hint.contains($0)
    }
  }

  private static func mentionsEmail(_ argument: DraftArgument) -> Bool {
    ["email", "e-mail", "address"].contains { argument.hint.contains($0) }
  }

  private static func mentionsSQL(_ argument: DraftArgument) -> Bool {
    ["sql", "select", "statement"].contains { argument.hint.contains($0) }
  }

  /// Whether an argument's name says it holds a secret (`password`, `api_key`, `auth_token`).
  static func isSecret(_ name: String) -> Bool {
    let words = DraftNaming.words(name)
    return words.contains { ["password", "passwd", "secret", "token", "apikey", "credentials"].contains($0) }
      || (words.contains("api") && words.contains("key"))
  }

  /// Whether a template can name the argument.
  static func isNamable(_ name: String) -> Bool {
    !name.isEmpty && name.unicodeScalars.allSatisfy(DraftNaming.isActionScalar) && name != "ctx"
      && name != "lookup"
  }
}
