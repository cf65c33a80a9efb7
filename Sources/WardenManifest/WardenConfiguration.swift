import Yams

/// Warden's own settings, `$WARDEN_HOME/config.yaml` (optional):
///
/// ```yaml
/// confirm:
///   channels: [elicitation, terminal]   # who may decide held calls (default: both)
/// ```
///
/// `elicitation` is the agent's client asking its user; `terminal` is `warden confirm`, `approve` and
/// `reject`. Unknown keys are errors, as in manifests: a typo must not silently widen who approves.
public struct WardenConfiguration: Sendable, Equatable {
  public enum Channel: String, Sendable, Equatable, CaseIterable {
    case elicitation
    case terminal
  }

  public var confirmChannels: Set<Channel>

  public init(confirmChannels: Set<Channel> = Set(Channel.allCases)) {
    self.confirmChannels = confirmChannels
  }

  /// Reads the configuration text; the error is one line naming the problem.
  public static func parse(_ text: String, file: String) throws(ConfigurationError) -> WardenConfiguration {
    let node: Node?
    do { node = try Yams.compose(yaml: text) } catch {
      throw ConfigurationError(message: "\(file): not valid YAML: \(error)")
    }
    guard let node else { return WardenConfiguration() }
    guard let top = node.mapping else { throw ConfigurationError(message: "\(file): must be a mapping") }
    var configuration = WardenConfiguration()
    for (key, value) in top {
      guard key.string == "confirm" else {
        throw ConfigurationError(message: "\(file): unknown key '\(key.string ?? "?")' (known: confirm)")
      }
      guard let confirm = value.mapping else {
        throw ConfigurationError(message: "\(file): 'confirm' must be a mapping")
      }
      for (confirmKey, confirmValue) in confirm {
        guard confirmKey.string == "channels" else {
          throw ConfigurationError(
            message: "\(file): unknown key 'confirm.\(confirmKey.string ?? "?")' (known: confirm.channels)")
        }
        let names = confirmValue.sequence?.compactMap(\.string) ?? confirmValue.string.map { [$0] } ?? []
        var channels = Set<Channel>()
        for name in names {
          guard let channel = Channel(rawValue: name) else {
            let known = Channel.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(
              message: "\(file): unknown channel '\(name)' in confirm.channels (known: \(known))")
          }
          channels.insert(channel)
        }
        configuration.confirmChannels = channels
      }
    }
    return configuration
  }
}

/// A configuration file that cannot be used.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}
