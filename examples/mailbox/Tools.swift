import Foundation

/// What a tool call produced: text for the model, and structured data when the tool declares an output schema.
struct ToolOutput {
  var text: String
  var structured: JSON? = nil
}

/// One MCP tool: its `tools/list` entry and its implementation.
struct Tool: Sendable {
  var name: String
  var title: String
  var description: String
  var inputSchema: JSON
  var outputSchema: JSON?
  var readOnly: Bool
  var destructive: Bool
  var idempotent: Bool
  var openWorld: Bool
  var run: @Sendable (MailboxStore, Arguments) throws -> ToolOutput

  var definition: JSON {
    var members: [String: JSON] = [
      "name": .string(name),
      "title": .string(title),
      "description": .string(description),
      "inputSchema": inputSchema,
      "annotations": [
        "title": .string(title),
        "readOnlyHint": .bool(readOnly),
        "destructiveHint": .bool(destructive),
        "idempotentHint": .bool(idempotent),
        "openWorldHint": .bool(openWorld),
      ],
    ]
    if let outputSchema { members["outputSchema"] = outputSchema }
    return .object(members)
  }
}

/// A tool call's `arguments`, with typed accessors that fail with a message the model can act on.
struct Arguments {
  var values: [String: JSON]

  func string(_ key: String) throws -> String {
    guard let value = values[key] else { throw MailboxError("missing required argument '\(key)'") }
    guard let string = value.stringValue else { throw MailboxError("argument '\(key)' must be a string") }
    return string
  }

  func optionalString(_ key: String) throws -> String? {
    if values[key] == nil || values[key] == .null { return nil }
    return try string(key)
  }

  func optionalInt(_ key: String, in range: ClosedRange<Int64>) throws -> Int64? {
    guard let value = values[key], value != .null else { return nil }
    guard let int = value.intValue, range.contains(int) else {
      throw MailboxError(
        "argument '\(key)' must be an integer from \(range.lowerBound) to \(range.upperBound)")
    }
    return int
  }
}

enum Tools {
  static let all: [Tool] = [
    listMessages, readMessage, moveMessage, archiveMessage, deleteMessage, sendMessage,
  ]

  static func named(_ name: String) -> Tool? {
    all.first { $0.name == name }
  }

  // MARK: Schemas

  private static let idProperty: JSON = [
    "type": "string", "description": "The message id, as shown by list_messages.",
  ]

  private static func objectSchema(_ properties: [String: JSON], required: [String]) -> JSON {
    [
      "type": "object",
      "properties": .object(properties),
      "required": .array(required.map { .string($0) }),
      "additionalProperties": false,
    ]
  }

  private static let summaryProperties: [String: JSON] = [
    "id": ["type": "string"],
    "from": ["type": "string"],
    "to": ["type": "string"],
    "subject": ["type": "string"],
    "date": ["type": "string", "description": "ISO 8601, UTC"],
  ]

  private static func summary(_ message: Message) -> [String: JSON] {
    [
      "id": .string(message.id), "from": .string(message.from), "to": .string(message.to),
      "subject": .string(message.subject), "date": .string(message.date),
    ]
  }

  // MARK: The tools

  static let listMessages = Tool(
    name: "list_messages",
    title: "List messages",
    description: "List the messages in a mailbox folder, newest first. Shows id, sender, recipient, "
      + "subject and date; use read_message to see a body.",
    inputSchema: objectSchema(
      [
        "folder": [
          "type": "string", "default": "inbox",
          "description": "Folder to list, e.g. inbox, archive, sent.",
        ],
        "limit": [
          "type": "integer", "minimum": 1, "maximum": 500, "default": 50,
          "description": "Most messages to return.",
        ],
      ], required: []),
    outputSchema: [
      "type": "object",
      "properties": [
        "folder": ["type": "string"],
        "total": ["type": "integer", "description": "Messages in the folder"],
        "messages": [
          "type": "array",
          "items": [
            "type": "object", "properties": .object(summaryProperties),
            "required": ["id", "from", "to", "subject", "date"],
          ],
        ],
        "folders": ["type": "array", "items": ["type": "string"], "description": "All folders"],
      ],
      "required": ["folder", "total", "messages", "folders"],
    ],
    readOnly: true, destructive: false, idempotent: true, openWorld: false,
    run: { store, arguments in
      let folder = try arguments.optionalString("folder") ?? "inbox"
      let limit = try arguments.optionalInt("limit", in: 1...500) ?? 50
      let messages = try store.messages(in: folder)
      let shown = messages.prefix(Int(limit))
      var text = "\(folder): \(messages.count) message\(messages.count == 1 ? "" : "s")"
      if shown.count < messages.count { text += " (showing the newest \(shown.count))" }
      for message in shown {
        text += "\n- [\(message.id)] \(message.date)  \(message.from)  \"\(message.subject)\""
      }
      let structured: JSON = [
        "folder": .string(folder),
        "total": .int(Int64(messages.count)),
        "messages": .array(shown.map { .object(summary($0)) }),
        "folders": .array(store.folders().map { .string($0) }),
      ]
      return ToolOutput(text: text, structured: structured)
    })

  static let readMessage = Tool(
    name: "read_message",
    title: "Read message",
    description: "Read one message in full (headers and body), whatever folder it is in.",
    inputSchema: objectSchema(["id": idProperty], required: ["id"]),
    outputSchema: [
      "type": "object",
      "properties": .object(
        summaryProperties.merging(
          ["folder": ["type": "string"], "body": ["type": "string"]], uniquingKeysWith: { first, _ in first })
      ),
      "required": ["id", "folder", "from", "to", "subject", "date", "body"],
    ],
    readOnly: true, destructive: false, idempotent: true, openWorld: false,
    run: { store, arguments in
      let (message, folder) = try store.find(id: try arguments.string("id"))
      let text = """
        From: \(message.from)
        To: \(message.to)
        Date: \(message.date)
        Subject: \(message.subject)
        Folder: \(folder)
        Id: \(message.id)

        \(message.body)
        """
      var structured = summary(message)
      structured["folder"] = .string(folder)
      structured["body"] = .string(message.body)
      return ToolOutput(text: text, structured: .object(structured))
    })

  static let moveMessage = Tool(
    name: "move_message",
    title: "Move message",
    description: "Move a message to another folder. The folder is created if it does not exist.",
    inputSchema: objectSchema(
      [
        "id": idProperty,
        "folder": [
          "type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$",
          "description": "Destination folder: letters, digits, '_' or '-'.",
        ],
      ], required: ["id", "folder"]),
    outputSchema: nil,
    readOnly: false, destructive: false, idempotent: true, openWorld: false,
    run: { store, arguments in
      let id = try arguments.string("id")
      let folder = try arguments.string("folder")
      let previous = try store.move(id: id, to: folder)
      if previous == folder { return ToolOutput(text: "Message \(id) is already in \(folder).") }
      return ToolOutput(text: "Moved message \(id) from \(previous) to \(folder).")
    })

  static let archiveMessage = Tool(
    name: "archive_message",
    title: "Archive message",
    description: "Move a message to the archive folder. Archiving an archived message does nothing.",
    inputSchema: objectSchema(["id": idProperty], required: ["id"]),
    outputSchema: nil,
    readOnly: false, destructive: false, idempotent: true, openWorld: false,
    run: { store, arguments in
      let id = try arguments.string("id")
      let previous = try store.move(id: id, to: "archive")
      if previous == "archive" { return ToolOutput(text: "Message \(id) is already archived.") }
      return ToolOutput(text: "Archived message \(id) (was in \(previous)).")
    })

  static let deleteMessage = Tool(
    name: "delete_message",
    title: "Delete message",
    description: "Permanently delete a message. This cannot be undone; use archive_message to keep it.",
    inputSchema: objectSchema(["id": idProperty], required: ["id"]),
    outputSchema: nil,
    readOnly: false, destructive: true, idempotent: true, openWorld: false,
    run: { store, arguments in
      let message = try store.delete(id: try arguments.string("id"))
      return ToolOutput(text: "Deleted message \(message.id) (\"\(message.subject)\" from \(message.from)).")
    })

  static let sendMessage = Tool(
    name: "send_message",
    title: "Send message",
    description: "Send an email. The message leaves the mailbox for the recipient; a copy is kept in sent. "
      + "(This example server only writes the copy; nothing is delivered.)",
    inputSchema: objectSchema(
      [
        "to": ["type": "string", "description": "Recipient address(es), comma-separated."],
        "subject": ["type": "string"],
        "body": ["type": "string", "description": "Plain-text body."],
      ], required: ["to", "subject", "body"]),
    outputSchema: nil,
    readOnly: false, destructive: false, idempotent: false, openWorld: true,
    run: { store, arguments in
      let to = try arguments.string("to")
      let recipients = to.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
      guard !recipients.isEmpty, recipients.allSatisfy({ $0.contains("@") && !$0.contains(" ") }) else {
        throw MailboxError("argument 'to' must be one or more email addresses, comma-separated")
      }
      let now = Date.now
      let message = Message(
        id: store.newID(date: now), from: store.ownAddress, to: recipients.joined(separator: ", "),
        subject: try arguments.string("subject"),
        date: now.formatted(.iso8601), body: try arguments.string("body"))
      try store.add(message, to: "sent")
      return ToolOutput(text: "Sent message \(message.id) to \(message.to) (copy stored in sent).")
    })
}
