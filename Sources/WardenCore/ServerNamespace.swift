import WardenJSON

/// What is warden's alone in a session, and how it is taken out of what the server sends, so a
/// server cannot speak with warden's voice: a `_meta` key in warden's namespace (`dev.warden/...`,
/// where warden puts its marks and decisions), an input request under warden's key, or a
/// `requestState` with warden's token prefix (which would make warden refuse the client's legitimate
/// retry as forged). A server's own `elicitation/create` is marked as the server's, so it cannot pass
/// for warden's approval form.
public enum ServerNamespace {
  /// The prefix of every key warden writes into `_meta` and `inputRequests`.
  public static let keyPrefix = "dev.warden/"
  /// The prefix of the `requestState` warden issues.
  public static let tokenPrefix = "warden1."

  /// The message cleaned, and what was taken out (for the log); nil when nothing had to change.
  public static func clean(_ message: JSONValue, serverName: String) -> (JSONValue, [String])? {
    var removed: [String] = []
    var cleaned = strip(message, path: "", removed: &removed)
    if message["method"]?.stringValue == "elicitation/create", message["id"] != nil,
      let params = cleaned["params"], params.kind == .object
    {
      let text = params["message"]?.stringValue ?? ""
      cleaned = cleaned.setting(
        "params", to: params.setting("message", to: .string(elicitationMarker(serverName: serverName) + text))
      )
      removed.append("marked the server's elicitation as the server's")
    }
    return removed.isEmpty ? nil : (cleaned, removed)
  }

  /// What a server's own question starts with in the client's form.
  public static func elicitationMarker(serverName: String) -> String {
    "[Asked by the MCP server \"\(HumanText.escaped(serverName))\", not by warden: warden never asks through a server.]\n\n"
  }

  private static func strip(_ value: JSONValue, path: String, removed: inout [String]) -> JSONValue {
    switch value.kind {
    case .object:
      var members: [(String, JSONValue)] = []
      var changed = false
      for key in value.keys {
        guard let child = value[key] else { continue }
        if key.utf8.starts(with: keyPrefix.utf8) {
          removed.append("\(path)/\(key)")
          changed = true
          continue
        }
        if key == "requestState", let state = child.stringValue, state.utf8.starts(with: tokenPrefix.utf8) {
          removed.append("\(path)/requestState (warden's token prefix)")
          changed = true
          continue
        }
        let cleaned = strip(child, path: path + "/" + key, removed: &removed)
        if cleaned !== child { changed = true }
        members.append((key, cleaned))
      }
      return changed ? .object(members) : value
    case .array:
      var elements: [JSONValue] = []
      var changed = false
      for index in 0..<value.count {
        guard let child = value[index] else { continue }
        let cleaned = strip(child, path: path + "/\(index)", removed: &removed)
        if cleaned !== child { changed = true }
        elements.append(cleaned)
      }
      return changed ? .array(elements) : value
    default:
      return value
    }
  }
}
