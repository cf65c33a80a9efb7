import WardenManifest

/// The manifest a wrapped server would run under, found as `warden run` finds it: `config.yaml`'s
/// pins (under the `--server` name when `servers:` lists it, else under the instance name), then
/// `--manifest`, then the user manifests and the installed ones by name.
struct ManifestResolution {
  /// The instance name grants are matched against.
  var instance: String
  /// The name under `servers:` whose pins apply (or would).
  var pinName: String
  var pin: WardenConfiguration.ServerSettings?
  /// Where the manifest comes from, when one was found.
  var source: String?
  /// Why none was found.
  var failure: String?

  static func resolve(_ run: RunArguments, facts: DeploymentFacts, configuration: WardenConfiguration)
    -> ManifestResolution
  {
    let servers = configuration.servers
    if let server = run.server, let pin = servers[server] {
      let options = run.options.pinned(by: pin, home: facts.home).options
      var found = select(options.manifest, server: server, command: run.command, facts: facts)
      if pin.manifest != nil { found.instance = server }
      return ManifestResolution(
        instance: found.instance, pinName: server, pin: pin, source: found.source, failure: found.failure)
    }
    let found = select(run.options.manifest, server: run.server, command: run.command, facts: facts)
    let name = found.instance
    guard let pin = servers[name] else {
      return ManifestResolution(
        instance: name, pinName: run.server ?? name, pin: nil, source: found.source, failure: found.failure)
    }
    guard let path = pin.manifestPath(home: facts.home) else {
      return ManifestResolution(
        instance: name, pinName: name, pin: pin, source: found.source, failure: found.failure)
    }
    let pinned = select(path, server: name, command: run.command, facts: facts)
    return ManifestResolution(
      instance: name, pinName: name, pin: pin, source: pinned.source, failure: pinned.failure)
  }

  /// Every manifest file the servers' command lines and config.yaml name: what the edge must load.
  static func files(of runs: [RunArguments], configuration: WardenConfiguration, home: String) -> Set<String>
  {
    var paths = Set(runs.compactMap(\.options.manifest))
    for settings in configuration.servers.values {
      if let path = settings.manifestPath(home: home) { paths.insert(path) }
    }
    return paths
  }

  private static func select(_ path: String?, server: String?, command: [String], facts: DeploymentFacts)
    -> (instance: String, source: String?, failure: String?)
  {
    let fallback = server ?? CommandName.name(for: command)
    if let path {
      switch facts.manifestFiles[path] {
      case .loaded(let manifest):
        let selection = ManifestSelection.file(manifest, path: path, server: server)
        return (selection.serverName, path, nil)
      case .missing: return (fallback, nil, "the manifest \(path) does not exist")
      case .invalid(let reason): return (fallback, nil, "the manifest \(path) is invalid: \(reason)")
      case nil: return (fallback, nil, "the manifest \(path) was not read")
      }
    }
    do throws(ManifestLookupError) {
      let selection = try facts.catalog.get().select(server: server, command: command)
      guard let entry = selection.entry else {
        let names = selection.lookedUp.map { "'\($0)'" }.joined(separator: " or ")
        return (
          selection.serverName, nil,
          "no manifest in $WARDEN_HOME/manifests or built in is named or aliased \(names)"
        )
      }
      return (selection.serverName, entry.source, nil)
    } catch {
      let line = String(error.description.split(separator: "\n").first ?? "")
      return (fallback, nil, line)
    }
  }
}
