import WardenJSON

/// A `tools/call` request's params, read for a decision: the tool's name, the arguments the
/// manifest reads (parsed), and the exact bytes of all the arguments (what a human is shown and an
/// approval binds to). Anything that is not certain is a problem, never a guess.
///
/// Only what the decision reads is parsed into values; the other arguments are split off by
/// position, so a large argument costs one pass over its bytes (two with the ambiguity check).
public struct ToolCallReading: Sendable, Equatable {
  public var tool: String
  /// The members of `arguments` the manifest reads; `{}` when the call has no arguments.
  public var arguments: JSON
  /// Where the `arguments` value lies in the params read; nil when the call has none.
  public var argumentsRange: Range<Int>?

  /// Reads `params` (nil when absent); `wanted` names the arguments the manifest reads for a tool.
  /// `fromScannedLine`: the params lie in a line the message scanner accepted, so their grammar is
  /// known to be valid. A failure is one line saying what could not be read.
  public static func read(
    _ params: UnsafeRawBufferPointer?, wanted: (String) -> Set<String>, fromScannedLine: Bool = false
  ) -> Result<ToolCallReading, Problem> {
    guard let params else {
      return .failure(Problem("a tools/call request needs params with the tool's name"))
    }
    // Every byte of the call must mean one thing to every reader, not only the arguments the
    // manifest reads: the human is shown, and the server runs, all of them.
    if let problem = AmbiguityCheck.firstAmbiguity(in: params, alreadyValidated: fromScannedLine) {
      return .failure(Problem("warden could not read the call unambiguously (\(problem))"))
    }
    let members: [ObjectMembers.Member]
    switch ObjectMembers.split(params) {
    case .success(let found): members = found
    case .failure(let problem):
      return .failure(Problem("warden could not read the call's params unambiguously (\(problem))"))
    }
    guard let nameMember = members.first(where: { $0.key.hasSameBytes(as: "name") }),
      let name = try? JSONValue.parse(UnsafeRawBufferPointer(rebasing: params[nameMember.value])).stringValue,
      !name.isEmpty
    else { return .failure(Problem("a tools/call request needs a string 'name'")) }
    var arguments: [JSON.Member] = []
    var range: Range<Int>?
    if let argumentsMember = members.first(where: { $0.key.hasSameBytes(as: "arguments") }) {
      range = argumentsMember.value
      let bytes = UnsafeRawBufferPointer(rebasing: params[argumentsMember.value])
      switch bytes.first {
      case UInt8(ascii: "{"):
        let names = wanted(name)
        switch ObjectMembers.split(bytes) {
        case .failure(let problem):
          return .failure(Problem("warden could not read the call's arguments unambiguously (\(problem))"))
        case .success(let found):
          for member in found where names.contains(where: { $0.hasSameBytes(as: member.key) }) {
            do throws(JSONParseError) {
              let value = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: bytes[member.value]))
              arguments.append(JSON.Member(member.key, value.json))
            } catch {
              return .failure(
                Problem("warden could not read the argument '\(member.key)' unambiguously (\(error.message))")
              )
            }
          }
        }
      case UInt8(ascii: "n"):
        range = nil  // null: no arguments
      default:
        return .failure(Problem("the 'arguments' of a tools/call request must be an object"))
      }
    }
    return .success(ToolCallReading(tool: name, arguments: .object(arguments), argumentsRange: range))
  }

  /// The exact bytes of the `arguments` value in `params` (empty when the call has none).
  public static func argumentBytes(_ params: UnsafeRawBufferPointer?) -> [UInt8] {
    guard let params, case .success(let members) = ObjectMembers.split(params),
      let arguments = members.first(where: { $0.key.hasSameBytes(as: "arguments") })
    else { return [] }
    let bytes = params[arguments.value]
    return bytes.first == UInt8(ascii: "n") ? [] : Array(bytes)
  }

  /// Why params could not be read.
  public struct Problem: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
  }
}
