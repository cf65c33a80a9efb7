/// The name `warden run` gives a server from its command line, matched against manifests' names and
/// aliases when no `--server` names one.
///
/// The name is what the command launches: a program's basename; for an interpreter (`python`, `node`,
/// `deno run`, `bun`, `uv run`) the script's basename without its extension, or the module after
/// `python -m`; for a package runner (`uvx`, `npx`, `pipx run`, ...) the package or command it runs,
/// without version, scope or extras. Options before the script or package are skipped, those that
/// take a value with their value.
public enum CommandName {
  /// The name for `command` (its first element is the program); empty for an empty command.
  public static func name(for command: [String]) -> String {
    guard let first = command.first else { return "" }
    let program = basename(first)
    let arguments = Array(command.dropFirst())
    if let launcher = launchers[program] {
      return launched(arguments, launcher: launcher, program: program)
    }
    if let (subcommand, launcher) = subcommandLaunchers[program], arguments.first == subcommand {
      return launched(Array(arguments.dropFirst()), launcher: launcher, program: program)
    }
    if isPython(program) { return python(arguments) ?? program }
    switch program {
    case "node", "nodejs":
      return script(arguments, valueOptions: nodeValueOptions, noScript: nodeCodeOptions) ?? program
    case "deno":
      guard arguments.first == "run" else { return program }
      return script(Array(arguments.dropFirst()), valueOptions: denoValueOptions, noScript: ["--eval"])
        ?? program
    case "bun":
      if arguments.first == "x" {
        return launched(Array(arguments.dropFirst()), launcher: .bunx, program: program)
      }
      let rest = arguments.first == "run" ? Array(arguments.dropFirst()) : arguments
      return script(rest, valueOptions: bunValueOptions, noScript: ["-e", "--eval", "-p", "--print"])
        ?? program
    case "uv":
      if arguments.first == "run" { return uvRun(Array(arguments.dropFirst())) ?? program }
      if arguments.starts(with: ["tool", "run"]) {
        return launched(Array(arguments.dropFirst(2)), launcher: .uvx, program: program)
      }
      return program
    default:
      return withoutScriptExtension(program)
    }
  }

  /// A package runner: which of its options take a value.
  enum Launcher {
    case uvx, npx, bunx, pipx, pnpmDlx, yarnDlx

    var valueOptions: Set<String> {
      switch self {
      case .uvx: return uvValueOptions
      case .npx:
        return [
          "-p", "--package", "-c", "--call", "-w", "--workspace", "--registry", "--cache", "--userconfig",
        ]
      case .bunx: return ["-p", "--package"]
      case .pipx: return ["--spec", "--python", "-i", "--index-url", "--pip-args", "--backend"]
      case .pnpmDlx: return ["--package", "-C", "--dir"]
      case .yarnDlx: return ["-p", "--package"]
      }
    }
  }

  static let launchers: [String: Launcher] = ["uvx": .uvx, "npx": .npx, "bunx": .bunx, "pnpx": .pnpmDlx]
  static let subcommandLaunchers: [String: (String, Launcher)] = [
    "pipx": ("run", .pipx), "pnpm": ("dlx", .pnpmDlx), "yarn": ("dlx", .yarnDlx), "npm": ("exec", .npx),
  ]

  /// The options of `uv run` and `uv tool run` (`uvx`) that take a value.
  static let uvValueOptions: Set<String> = [
    "--from", "--with", "--with-editable", "--with-requirements", "-c", "--constraints", "--overrides",
    "-b", "--build-constraints", "--env-file", "--index", "--default-index", "-i", "--index-url",
    "--extra-index-url", "-f", "--find-links", "-P", "--upgrade-package", "--reinstall-package",
    "--index-strategy", "--keyring-provider", "--resolution", "--prerelease", "-C", "--config-setting",
    "--config-settings-package", "--no-build-isolation-package", "--exclude-newer", "--exclude-newer-package",
    "--link-mode", "--no-build-package", "--no-binary-package", "-p", "--python", "--cache-dir",
    "--python-preference", "--color", "--directory", "--project", "--config-file", "--allow-insecure-host",
    "--refresh-package", "--python-platform", "--extra", "--no-extra", "--group", "--no-group",
    "--only-group", "--package", "--torch-backend",
  ]
  static let nodeValueOptions: Set<String> = [
    "-r", "--require", "--import", "--loader", "--experimental-loader", "-C", "--conditions", "--input-type",
    "--title", "--env-file", "--inspect-port",
  ]
  static let nodeCodeOptions: Set<String> = ["-e", "--eval", "-p", "--print"]
  static let denoValueOptions: Set<String> = [
    "-c", "--config", "--import-map", "--cert", "--location", "--seed", "--lock", "--env-file",
  ]
  static let bunValueOptions: Set<String> = ["--cwd", "-r", "--preload", "-c", "--config", "--env-file"]
  static let scriptExtensions: Set<String> = [
    "py", "pyw", "pyz", "js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx",
  ]

  /// The package or command a package runner runs: its first operand.
  private static func launched(_ arguments: [String], launcher: Launcher, program: String) -> String {
    guard let operand = operands(arguments, valueOptions: launcher.valueOptions).first else { return program }
    return packageName(operand)
  }

  /// `uv run`: the module after `-m`/`--module`, else the command or script it runs, named as if it
  /// were run alone (`uv run python -m pkg` is `pkg`, `uv run server.py` is `server`).
  private static func uvRun(_ arguments: [String]) -> String? {
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      if argument == "-m" || argument == "--module" {
        return index + 1 < arguments.count ? arguments[index + 1] : nil
      }
      if let module = argument.prefixed("--module=") { return module }
      if argument == "--" {
        return index + 1 < arguments.count ? name(for: Array(arguments[(index + 1)...])) : nil
      }
      if !argument.hasPrefix("-") || argument == "-" { return name(for: Array(arguments[index...])) }
      index += uvValueOptions.contains(argument) ? 2 : 1
    }
    return nil
  }

  /// `python`, `python3`, `python3.12`, `pythonw`, `pypy3`.
  static func isPython(_ program: String) -> Bool {
    for prefix in ["python", "pypy"] where program.hasPrefix(prefix) {
      var rest = Substring(program.dropFirst(prefix.count))
      if prefix == "python", rest.hasPrefix("w") { rest = rest.dropFirst() }
      return rest.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
    }
    return false
  }

  /// Python's command line: `-m MODULE` names the module; a script its basename; `-c` no name.
  private static func python(_ arguments: [String]) -> String? {
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      if argument == "--" {
        return index + 1 < arguments.count ? scriptName(arguments[index + 1]) : nil
      }
      if argument == "--check-hash-based-pycs" {
        index += 2
        continue
      }
      guard argument.hasPrefix("-"), argument != "-" else { return scriptName(argument) }
      if argument.hasPrefix("--") {
        index += 1
        continue
      }
      // A cluster of one-letter options (`-uB`); `m`, `c`, `W` and `X` take the rest, or the next argument.
      var takesNext = false
      for (offset, letter) in argument.dropFirst().enumerated() {
        guard "mcWX".contains(letter) else { continue }
        let attached = String(argument.dropFirst(offset + 2))
        let value = attached.isEmpty ? (index + 1 < arguments.count ? arguments[index + 1] : nil) : attached
        if letter == "m" { return value }
        if letter == "c" { return nil }
        takesNext = attached.isEmpty
        break
      }
      index += takesNext ? 2 : 1
    }
    return nil
  }

  /// An interpreter's script, after its options; nil when code is given inline (`-e`) or there is no script.
  private static func script(_ arguments: [String], valueOptions: Set<String>, noScript: Set<String>)
    -> String?
  {
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      let option = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
      if noScript.contains(option) { return nil }
      if argument == "--" {
        return index + 1 < arguments.count ? scriptName(arguments[index + 1]) : nil
      }
      guard argument.hasPrefix("-"), argument != "-" else { return scriptName(argument) }
      index += valueOptions.contains(argument) ? 2 : 1
    }
    return nil
  }

  /// The arguments that are not options, once the options and their values are skipped.
  private static func operands(_ arguments: [String], valueOptions: Set<String>) -> [String] {
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      if argument == "--" { return Array(arguments[(index + 1)...]) }
      if !argument.hasPrefix("-") || argument == "-" { return Array(arguments[index...]) }
      index += valueOptions.contains(argument) ? 2 : 1
    }
    return []
  }

  /// A script's name: `npm:` and `jsr:` specifiers are packages; a path or URL its basename without
  /// a script extension.
  private static func scriptName(_ script: String) -> String {
    for scheme in ["npm:", "jsr:"] {
      if let package = script.prefixed(scheme) { return packageName(package) }
    }
    return withoutScriptExtension(basename(script))
  }

  /// A package without its version, scope or extras: `@scope/pkg@1.2` and `pkg==1.0` are `pkg`,
  /// `pkg[cli]` is `pkg`.
  static func packageName(_ specifier: String) -> String {
    var text = Substring(specifier)
    if text.hasPrefix("@") { text = text.dropFirst() }
    if let slash = text.lastIndex(of: "/") { text = text[text.index(after: slash)...] }
    let end = text.firstIndex { "@=<>!~[;, ".contains($0) } ?? text.endIndex
    return String(text[..<end])
  }

  /// The last component of a path (the text itself when it has none).
  static func basename(_ path: String) -> String {
    String(path.split(separator: "/").last ?? Substring(path))
  }

  static func withoutScriptExtension(_ name: String) -> String {
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
    let suffix = name[name.index(after: dot)...]
    return scriptExtensions.contains(String(suffix)) ? String(name[..<dot]) : name
  }
}

extension String {
  /// The text after `prefix`, or nil when the string does not start with it.
  fileprivate func prefixed(_ prefix: String) -> String? {
    hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
  }
}
