import ArgumentParser
import WardenCore
import WardenJSON
import WardenManifest
import WardenProxy

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension Warden.Manifest {
  struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "init",
      abstract: "Draft a manifest for a server from the tools it lists.",
      discussion: """
        Starts COMMAND as warden run would (stdio; its stderr shown only if it fails), reads its tools in \
        the protocol era it speaks (server/discover, else initialize; every page of tools/list), \
        stops it, and prints a draft manifest: one entry per tool, every guess with a comment \
        saying why, and the first line of the tool's description as a comment.

        Examples:
          warden manifest init -- uvx mcp-server-git > git.yaml
          warden manifest init --server notes --write -- python notes_server.py

        What is guessed, and what to review in the draft:
          action       SERVER.read when the server marks the tool readOnlyHint;
                       else SERVER.VERB from its name (git_commit: git.commit).
                       Let tools that do the same kind of thing share one.
          resource     from argument names, types and formats: a path
                       file:{path|path}, a repository repo:{repo_path|path},
                       a URL host:{url|host}, an e-mail address domain:{to|domain},
                       an id message:{id}; optional ones as {arg?}; SQL with
                       sql: when the dialect shows. Arguments the comments list
                       as "not read" may select something too. A tool with no
                       such argument gets server:SERVER.
          destructive  true unless the server says readOnlyHint, or
                       destructiveHint: false (MCP's default: a tool without
                       annotations may destroy).
        Names, annotations and descriptions are the server's own word: a server can \
        call a deleting tool read-only. The draft is checked as `warden manifest lint` \
        checks a file before it is printed.

        --write puts it in $WARDEN_HOME/manifests/SERVER.yaml (mode 0600; an existing \
        file only with --force), where warden run and warden check find it by its server \
        name and alias; it then replaces the installed manifest of that name, if any.

        Exit status: 0 the draft was printed or written; 1 the server did not start, \
        did not list its tools within --timeout, failed, or listed none; 64 usage; \
        70 the draft failed its own check (a bug in warden); 73 --write could not \
        write the file, or would replace one or a name another manifest claims.
        """
    )

    @Option(
      name: .long, help: "The server's name in the draft (default: from the command, as warden run names it)."
    )
    var server: String?

    @Flag(name: .long, help: "Write the draft to $WARDEN_HOME/manifests/NAME.yaml instead of stdout.")
    var write = false

    @Flag(name: .long, help: "With --write, replace an existing file.")
    var force = false

    @Option(name: .long, help: "Seconds the server has to list its tools.")
    var timeout: Double = 10

    @Argument(
      parsing: .postTerminator,
      help: ArgumentHelp("The server's command line, after --.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
      guard !command.isEmpty else { throw ValidationError("give the server's command after --") }
      guard timeout > 0, timeout <= 3600 else {
        throw ValidationError("--timeout must be from 0 to 3600 seconds")
      }
      if let server, !DraftNaming.isValidServerName(server) {
        throw ValidationError("invalid --server '\(server)': use letters, digits, '_', '.' and '-'")
      }
      if force && !write { throw ValidationError("--force applies to --write only") }
    }

    func run() throws {
      try reportingFailures {
        let name = server ?? DraftNaming.serverName(for: command)
        guard DraftNaming.isValidServerName(name) else {
          throw CommandFailure(
            "warden: cannot name the server after its command: give --server NAME", status: 64)
        }
        let listing: (tools: [JSON], era: ToolListing.Era)
        do throws(ToolListingError) {
          listing = try ToolLister.list(
            command: command, timeout: timeout, clientVersion: Warden.configuration.version)
        } catch {
          throw CommandFailure("warden: \(error.message)")
        }
        guard !listing.tools.isEmpty else { throw CommandFailure("warden: the server listed no tools") }
        let commandName = CommandName.name(for: command)
        let aliases =
          server == nil && commandName != name && DraftNaming.isValidServerName(commandName)
          ? [commandName] : []
        let draft = ManifestDraft.make(
          server: name, aliases: aliases, tools: listing.tools,
          origin: ManifestDraft.Origin(
            command: command, listedAt: Self.utcNow(), protocolEra: listing.era.description))
        let manifest: WardenCore.Manifest
        do throws(ManifestErrors) {
          manifest = try ManifestLoader.parse(draft.text, file: "the draft")
        } catch {
          throw CommandFailure(
            "warden: the draft is not a valid manifest, a bug in warden; please report it with the server:\n"
              + error.description, status: 70)
        }
        for skipped in draft.skipped {
          printToStandardError("warden: left out tool \(JSONText.quoted(skipped.name)): \(skipped.reason)")
        }
        guard write else {
          printLine(String(draft.text.dropLast()))
          return
        }
        let path = try DraftFile.save(draft.text, server: name, aliases: aliases, force: force)
        printLine("wrote \(path) (\(draft.declared.count) tools, server \(name))")
        let actions = Set(manifest.tools.values.flatMap { $0.variants.map(\.action) }).sorted()
        printLine("actions: \(actions.joined(separator: ", "))")
        printLine("next: review every guess in it (the comments say why each was made), then")
        printLine("  warden manifest lint \(path)")
        printLine(
          "  warden grant --server \(name) --allow '\(DraftNaming.namespace(name)).read' --on 'RESOURCE' \\"
        )
        printLine("    --for 2h --purpose 'what the agent does'")
        if BuiltinManifests.builtin(named: name) != nil {
          printLine(
            "note: it replaces the manifest installed with warden for '\(name)' (warden manifest show \(name))"
          )
        }
      }
    }

    /// `2026-11-30 05:48 UTC`.
    static func utcNow() -> String {
      var now = time(nil)
      var parts = tm()
      gmtime_r(&now, &parts)
      func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
      return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
        + "\(two(parts.tm_hour)):\(two(parts.tm_min)) UTC"
    }
  }
}
