import WardenJSON

/// Checks the exact resources a human lists as reviewed on a grant (`warden grant --reviewed`).
///
/// A reviewed resource lifts the hold on destructive calls on exactly that resource, so it must be
/// one resource as warden computes it, never a pattern: no glob syntax (`*`, `**`, `?`, `[`), nothing
/// a template would refuse (control and bidirectional characters), and within the grant's own
/// resources.
public enum ReviewedResources {
  /// The characters refused because a reader could take them for a pattern.
  static let globCharacters: Set<Unicode.Scalar> = ["*", "?", "["]

  /// Every problem with `reviewed` on a grant whose resource patterns are `resources` (empty: every
  /// resource); empty when they are all exact resources the grant covers. Messages name the option.
  public static func problems(reviewed: [String], resources: [String]) -> [String] {
    var problems: [String] = []
    let patterns = resources.map(Glob.resource)
    for resource in reviewed {
      let shown = HumanText.escaped(resource)
      if resource.isEmpty {
        problems.append("--reviewed: a reviewed resource cannot be empty")
      } else if resource.unicodeScalars.contains(where: globCharacters.contains) {
        problems.append(
          "--reviewed: '\(shown)' is not an exact resource: --reviewed takes resources exactly as warden computes them (as `warden holds` shows them), without globs (*, **, ?, [)"
        )
      } else if resource.unicodeScalars.contains(where: ResourceTemplate.drawsOnScreen) {
        problems.append(
          "--reviewed: '\(shown)' holds a control or bidirectional character, which no resource of a call can hold"
        )
      } else if !patterns.isEmpty, !patterns.contains(where: { $0.matches(resource) }) {
        problems.append(
          "--reviewed: '\(shown)' is not covered by the grant's resources (\(resources.map(HumanText.escaped).joined(separator: ", ")))"
        )
      }
    }
    return problems
  }

  /// `reviewed` without repeats, compared as bytes (a composed and a decomposed `é` stay two), in
  /// the order given.
  public static func distinct(_ reviewed: [String]) -> [String] {
    var seen = Set<[UInt8]>()
    return reviewed.filter { seen.insert(Array($0.utf8)).inserted }
  }
}
