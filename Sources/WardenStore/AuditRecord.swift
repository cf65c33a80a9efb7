import Crypto
import WardenCore
import WardenJSON

/// One record for the audit chain, before the chain gives it its place: its fields as canonical JSON
/// (the chain adds `seq` and `prev`), and copies of the fields the store indexes.
public struct AuditRecord: Sendable {
  public var fields: CanonicalObject
  public var at: Int64
  public var kind: String
  public var agent: String
  public var server: String
  public var call: String

  /// `fields` must hold `at`, `kind`, `agent`, `server` and `call` with these values too.
  public init(fields: CanonicalObject, at: Int64, kind: String, agent: String, server: String, call: String) {
    self.fields = fields
    self.at = at
    self.kind = kind
    self.agent = agent
    self.server = server
    self.call = call
  }

  /// A record from a JSON object (tests, the journal's recovery, the store's own records); nil when
  /// `value` is not an object.
  public init?(json value: JSONValue) {
    guard let fields = CanonicalObject(value) else { return nil }
    self.init(
      fields: fields, at: value["at"]?.integerValue ?? 0, kind: value["kind"]?.stringValue ?? "",
      agent: value["agent"]?.stringValue ?? "", server: value["server"]?.stringValue ?? "",
      call: value["call"]?.stringValue ?? "")
  }

  /// The stored text of this record at `seq` after `prev`, and its hash.
  public func linked(seq: Int64, prev: String) -> (text: [UInt8], hash: String) {
    // `prev` and `seq` are written into the text in passing: no copy of the record to insert them.
    let bytes = fields.bytes(inserting: [
      ("prev", CanonicalObject.encoded(prev)), ("seq", Array(String(seq).utf8)),
    ])
    return (bytes, SHA256.hash(data: bytes).withUnsafeBytes { Hex.encode($0) })
  }
}
