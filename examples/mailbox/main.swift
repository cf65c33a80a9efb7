import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

// warden-example-mailbox: a small MCP server over stdio that manages a mailbox kept in a local folder.

let usage = """
  usage: warden-example-mailbox [--mailbox DIR] [--seed]

    --mailbox DIR   the mailbox folder (default: $MAILBOX_DIR, else ./mailbox)
    --seed          put a few sample messages into the inbox if the mailbox is empty (or MAILBOX_SEED=1)

  Speaks MCP on stdin/stdout (one JSON-RPC message a line); logs go to stderr.
  The sender address for send_message is $MAILBOX_ADDRESS (default: me@example.com).
  """

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("warden-example-mailbox: \(message)\n\(usage)\n".utf8))
  exit(64)
}

let environment = ProcessInfo.processInfo.environment
var mailboxPath = environment["MAILBOX_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "mailbox"
var seed = ["1", "true", "yes"].contains(environment["MAILBOX_SEED"]?.lowercased() ?? "")
let ownAddress = environment["MAILBOX_ADDRESS"].flatMap { $0.isEmpty ? nil : $0 } ?? "me@example.com"

var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
  switch argument {
  case "--mailbox":
    guard let path = arguments.popFirst(), !path.isEmpty else { fail("--mailbox needs a directory") }
    mailboxPath = path
  case _ where argument.hasPrefix("--mailbox="):
    mailboxPath = String(argument.dropFirst("--mailbox=".count))
  case "--seed":
    seed = true
  case "-h", "--help":
    print(usage)
    exit(0)
  default:
    fail("unknown argument '\(argument)'")
  }
}

// A client that goes away must not kill us with SIGPIPE; the failed write ends the loop instead.
signal(SIGPIPE, SIG_IGN)

let store: MailboxStore
do {
  store = try MailboxStore(root: URL(fileURLWithPath: mailboxPath, isDirectory: true), ownAddress: ownAddress)
  if seed && store.isEmpty {
    for message in SampleMessages.all(to: ownAddress) { try store.add(message, to: "inbox") }
    log("seeded \(store.root.path) with sample messages")
  }
} catch {
  log("cannot open the mailbox at \(mailboxPath): \(error)")
  exit(1)
}
log("serving mailbox \(store.root.path)")

let server = MCPServer(store: store)
var transport = LineTransport()
while let line = transport.readLine() {
  guard let response = server.handle(Incoming(line: line)) else { continue }
  guard transport.write(response) else {
    log("stdout is closed; exiting")
    break
  }
}
