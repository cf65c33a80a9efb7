import WardenCore
import WardenManifest

/// What a file or directory is, as `stat` saw it (following a link, except `isSymbolicLink`).
public struct FileFacts: Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    case missing
    case directory
    case regularFile
    case other
  }

  public var path: String
  public var kind: Kind
  public var isSymbolicLink: Bool
  public var ownerID: UInt32
  /// The permission bits (`0o700`).
  public var mode: UInt32

  public init(path: String, kind: Kind, isSymbolicLink: Bool = false, ownerID: UInt32 = 0, mode: UInt32 = 0) {
    self.path = path
    self.kind = kind
    self.isSymbolicLink = isSymbolicLink
    self.ownerID = ownerID
    self.mode = mode
  }

  public static func missing(_ path: String) -> FileFacts { FileFacts(path: path, kind: .missing) }
}

/// The store's schema as a read-only look found it.
public enum StoreState: Sendable, Equatable {
  /// No `warden.db` yet.
  case missing
  /// Every migration this warden knows is applied.
  case current(migrations: Int)
  /// Written by an older warden: the next command that opens it migrates it.
  case outdated(missing: [String])
  /// Written by a newer warden, which this one refuses.
  case newer(unknown: [String])
  /// Not a warden database, corrupt, or unreadable: the reason.
  case unreadable(String)
}

/// A store shared by a team (PostgreSQL), as `warden doctor` found it.
public struct SharedStoreFacts: Sendable, Equatable {
  /// Where `store:` came from.
  public enum Source: Sendable, Equatable {
    /// `store:` in `$WARDEN_HOME/config.yaml`.
    case configuration
    /// `WARDEN_STORE`, which the agent's MCP configuration could set.
    case environment
  }

  public enum State: Sendable, Equatable {
    case current(version: Int)
    /// No warden schema yet.
    case empty
    case outdated(missing: [Int])
    case newer(unknown: [Int])
    /// Cannot be reached, refuses the credentials, not a warden store, or a URL warden refuses: why.
    case unavailable(String)
  }

  /// The URL, without password.
  public var location: String
  public var source: Source
  public var state: State

  public init(location: String, source: Source, state: State) {
    self.location = location
    self.source = source
    self.state = state
  }
}

/// `$WARDEN_HOME/config.yaml`.
public enum ConfigurationState: Sendable, Equatable {
  case absent
  case valid(WardenConfiguration)
  /// Cannot be read or parsed: the one-line reason (warden run and check stop with 78).
  case invalid(String)

  var configuration: WardenConfiguration? {
    switch self {
    case .absent: WardenConfiguration()
    case .valid(let configuration): configuration
    case .invalid: nil
    }
  }
}

/// A manifest file named by `--manifest` or `servers.NAME.manifest`.
public enum ManifestFileState: Sendable, Equatable {
  case loaded(Manifest)
  case missing
  /// Invalid or unreadable: the first error line.
  case invalid(String)
}

/// An agent's MCP configuration to check: one `warden wrap` recorded, or one given on the command line.
public struct AgentConfigFacts: Sendable, Equatable {
  public enum State: Sendable, Equatable {
    /// Read: the agent that reads it and its servers.
    case read(agent: String, servers: [ConfiguredServer])
    /// Gone since warden wrapped it: the record files to remove.
    case missing(records: [String])
    /// Cannot be read or is not an agent's configuration: the reason.
    case unreadable(String)
  }

  public var path: String
  /// Whether `warden wrap` recorded it (else it was given as CONFIG).
  public var wrapped: Bool
  public var state: State

  public init(path: String, wrapped: Bool, state: State) {
    self.path = path
    self.wrapped = wrapped
    self.state = state
  }
}

/// One server entry of an agent's configuration.
public struct ConfiguredServer: Sendable, Equatable {
  public var name: String
  /// A remote server's kind or URL; nil for a stdio server.
  public var remote: String?
  /// The command and its arguments; empty when the entry has no usable command.
  public var commandLine: [String]
  /// Whether the command line is `warden run ...`.
  public var behindWarden: Bool

  public init(name: String, remote: String? = nil, commandLine: [String], behindWarden: Bool) {
    self.name = name
    self.remote = remote
    self.commandLine = commandLine
    self.behindWarden = behindWarden
  }
}

/// Everything `warden doctor` gathered about a deployment; the checks are pure functions of it.
public struct DeploymentFacts: Sendable {
  public var userID: UInt32
  public var userName: String
  public var home: String
  /// The home itself.
  public var homeFile: FileFacts
  /// warden's files in the home that exist (`warden.db` and its companions, `config.yaml`,
  /// `audit.head`, `manifests`, `wrapped`, `audit-journal`).
  public var homeEntries: [FileFacts]
  public var store: StoreState
  /// The team's store when one is chosen (`store:` or `WARDEN_STORE`); nil for SQLite in the home.
  public var sharedStore: SharedStoreFacts?
  public var configuration: ConfigurationState
  /// Whether doctor runs at a terminal (standard input one, and a controlling terminal).
  public var atTerminal: Bool
  /// Where `notify-send` is on the PATH, if it is.
  public var notifySend: String?
  /// The manifests of `$WARDEN_HOME/manifests` over the installed ones, or why they cannot be read.
  public var catalog: Result<ManifestCatalog, ManifestLookupError>
  /// Manifest files named on wrapped command lines or pinned, by the path as resolved.
  public var manifestFiles: [String: ManifestFileState]
  /// Of those paths, the ones this user can write (the file or its folder).
  public var writableManifests: Set<String>
  public var agentConfigs: [AgentConfigFacts]

  public init(
    userID: UInt32, userName: String, home: String, homeFile: FileFacts, homeEntries: [FileFacts] = [],
    store: StoreState = .missing, configuration: ConfigurationState = .absent, atTerminal: Bool = true,
    notifySend: String? = "/usr/bin/notify-send",
    catalog: Result<ManifestCatalog, ManifestLookupError> = .success(ManifestCatalog(files: [])),
    manifestFiles: [String: ManifestFileState] = [:], writableManifests: Set<String> = [],
    agentConfigs: [AgentConfigFacts] = []
  ) {
    self.userID = userID
    self.userName = userName
    self.home = home
    self.homeFile = homeFile
    self.homeEntries = homeEntries
    self.store = store
    self.configuration = configuration
    self.atTerminal = atTerminal
    self.notifySend = notifySend
    self.catalog = catalog
    self.manifestFiles = manifestFiles
    self.writableManifests = writableManifests
    self.agentConfigs = agentConfigs
  }
}
