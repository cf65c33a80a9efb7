import ArgumentParser

@main
struct Warden: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "warden",
    abstract: "The MCP tool server that holds an agent to what a human delegated.",
    discussion: """
      Configure your agent to launch `warden run -- <server command>` instead of the server itself. Warden starts the server, relays every message, and checks each tool call against the delegation a human issued with `warden grant`, kept in a store outside the conversation ($WARDEN_HOME, default ~/.local/state/warden).

      A first session:
        warden grant --server git --allow git.read --on 'repo:/home/me/app' --for 2h --purpose 'review the branch'
        warden check --server git git_status '{"repo_path": "/home/me/app"}'
        warden run -- uvx mcp-server-git          (in the agent's MCP configuration)
        warden revoke --all                        (the kill switch)
      """,
    version: "0.1.0",
    subcommands: [
      Run.self, GrantCommand.self, Deny.self, Grants.self, Revoke.self, Check.self, Holds.self, Confirm.self,
      Approve.self, Reject.self, Audit.self, Status.self, Reset.self, Manifest.self, Tools.self, Wrap.self,
      Unwrap.self, Store.self,
      DoctorCommand.self,
    ]
  )
}
