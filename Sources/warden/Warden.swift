import ArgumentParser

@main
struct Warden: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "warden",
    abstract: "The MCP tool server that holds an agent to what a human delegated.",
    discussion: """
      Configure your agent to launch `warden run -- <server command>` instead of the server itself.
      Warden starts the server, relays every message, and (as policy lands) checks each tool call
      against the delegation a human issued with this CLI.
      """,
    version: "0.1.0",
    subcommands: [Run.self]
  )
}
