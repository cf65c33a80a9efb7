import CJansson

/// A JSON document held by jansson.
///
/// This type owns the only references to jansson's `json_t` in the program: no other module sees a
/// C pointer. Values are immutable once built; build them with the static constructors. A value is
/// confined to the thread that made it.
public final class JSONValue {
  let handle: UnsafeMutablePointer<json_t>

  /// Takes ownership of one reference.
  init(owning handle: UnsafeMutablePointer<json_t>) {
    self.handle = handle
  }

  /// Shares a reference owned by a container.
  convenience init(borrowing handle: UnsafeMutablePointer<json_t>) {
    self.init(owning: wj_incref(handle))
  }

  deinit { wj_decref(handle) }

  public enum Kind: Sendable, Equatable {
    case object, array, string, integer, real, bool, null
  }

  public var kind: Kind {
    switch json_type(UInt32(wj_typeof(handle))) {
    case JSON_OBJECT: return .object
    case JSON_ARRAY: return .array
    case JSON_STRING: return .string
    case JSON_INTEGER: return .integer
    case JSON_REAL: return .real
    case JSON_TRUE, JSON_FALSE: return .bool
    default: return .null
    }
  }

  // MARK: - Parsing and serializing

  /// Parses one JSON value. Duplicate object keys are rejected: a document that means two things to
  /// two readers is not one warden decides on.
  public static func parse(_ bytes: UnsafeRawBufferPointer, rejectingDuplicates: Bool = true)
    throws(JSONParseError) -> JSONValue
  {
    var error = json_error_t()
    let flags = (rejectingDuplicates ? JSON_REJECT_DUPLICATES : 0) | JSON_DECODE_ANY | JSON_ALLOW_NUL
    let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
    guard let base, let handle = json_loadb(base, bytes.count, Int(flags), &error) else {
      let text = withUnsafeBytes(of: error.text) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      throw JSONParseError(message: bytes.isEmpty ? "empty input" : text, offset: Int(error.position))
    }
    return JSONValue(owning: handle)
  }

  /// Parses one JSON value from a byte array.
  public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
    let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBytes { raw in
      do throws(JSONParseError) { return .success(try parse(raw)) } catch { return .failure(error) }
    }
    return try result.get()
  }

  /// Parses one JSON value from text.
  public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
    try parse(Array(text.utf8))
  }

  /// Compact JSON text, keys in insertion order, non-ASCII kept as UTF-8.
  public func serialized(pretty: Bool = false) -> [UInt8] {
    let flags = (pretty ? (JSON_PRESERVE_ORDER | 2) : (JSON_COMPACT | JSON_PRESERVE_ORDER)) | JSON_ENCODE_ANY
    let size = json_dumpb(handle, nil, 0, Int(flags))
    guard size > 0 else { return [] }
    return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
      count = json_dumpb(
        handle, buffer.baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self) },
        size, Int(flags))
    }
  }

  /// Canonical text: compact, object keys sorted; the same value always gives the same bytes.
  public func canonicalText() -> String {
    let flags = JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY
    let size = json_dumpb(handle, nil, 0, Int(flags))
    guard size > 0 else { return "" }
    let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
      count = json_dumpb(
        handle, buffer.baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self) },
        size,
        Int(flags))
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// The serialized text as a String.
  public func text(pretty: Bool = false) -> String {
    String(decoding: serialized(pretty: pretty), as: UTF8.self)
  }

  // MARK: - Reading

  public subscript(key: String) -> JSONValue? {
    guard kind == .object, let child = json_object_get(handle, key) else { return nil }
    return JSONValue(borrowing: child)
  }

  public subscript(index: Int) -> JSONValue? {
    guard kind == .array, index >= 0, let child = json_array_get(handle, index) else { return nil }
    return JSONValue(borrowing: child)
  }

  /// Number of elements of an array or members of an object; 0 otherwise.
  public var count: Int {
    switch kind {
    case .array: return json_array_size(handle)
    case .object: return json_object_size(handle)
    default: return 0
    }
  }

  /// An object's keys in document order.
  public var keys: [String] {
    guard kind == .object else { return [] }
    var keys: [String] = []
    var iterator = json_object_iter(handle)
    while let current = iterator {
      let length = json_object_iter_key_len(current)
      if let key = json_object_iter_key(current) {
        keys.append(
          String(decoding: UnsafeRawBufferPointer(start: key, count: length), as: UTF8.self))
      }
      iterator = json_object_iter_next(handle, current)
    }
    return keys
  }

  public var stringValue: String? {
    guard kind == .string, let pointer = json_string_value(handle) else { return nil }
    let length = json_string_length(handle)
    return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
  }

  public var integerValue: Int64? {
    kind == .integer ? Int64(json_integer_value(handle)) : nil
  }

  /// The value of a number, integer or real.
  public var doubleValue: Double? {
    switch kind {
    case .integer: return Double(json_integer_value(handle))
    case .real: return json_real_value(handle)
    default: return nil
    }
  }

  public var boolValue: Bool? {
    switch json_type(UInt32(wj_typeof(handle))) {
    case JSON_TRUE: return true
    case JSON_FALSE: return false
    default: return nil
    }
  }

  public var isNull: Bool { kind == .null }

  // MARK: - Building

  public static func string(_ value: String) -> JSONValue {
    var value = value
    return value.withUTF8 { utf8 in
      JSONValue(owning: json_stringn_nocheck(cString(utf8), utf8.count))
    }
  }

  public static func integer(_ value: Int64) -> JSONValue {
    JSONValue(owning: json_integer(json_int_t(value)))
  }

  public static func real(_ value: Double) -> JSONValue {
    JSONValue(owning: json_real(value))
  }

  public static func bool(_ value: Bool) -> JSONValue {
    JSONValue(owning: wj_boolean(value ? 1 : 0))
  }

  public static func null() -> JSONValue {
    JSONValue(owning: json_null())
  }

  public static func array(_ elements: [JSONValue]) -> JSONValue {
    let handle = json_array()!
    for element in elements { json_array_append(handle, element.handle) }
    return JSONValue(owning: handle)
  }

  /// An object with members in the given order.
  public static func object(_ members: KeyValuePairs<String, JSONValue>) -> JSONValue {
    object(members.map { ($0.key, $0.value) })
  }

  /// An object with members in the given order; a later duplicate key replaces an earlier one.
  public static func object(_ members: [(String, JSONValue)]) -> JSONValue {
    let handle = json_object()!
    for (key, value) in members {
      var key = key
      key.withUTF8 { utf8 in
        _ = json_object_setn(handle, cString(utf8), utf8.count, value.handle)
      }
    }
    return JSONValue(owning: handle)
  }

  /// A copy of this object without `key`.
  public func removing(_ key: String) -> JSONValue {
    let copy = json_copy(handle)!
    _ = json_object_del(copy, key)
    return JSONValue(owning: copy)
  }

  /// A copy of this object with `key` set to `value` (added last if new).
  public func setting(_ key: String, to value: JSONValue) -> JSONValue {
    let copy = json_copy(handle)!
    var key = key
    key.withUTF8 { utf8 in
      _ = json_object_setn(copy, cString(utf8), utf8.count, value.handle)
    }
    return JSONValue(owning: copy)
  }
}

/// A document jansson could not parse.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
  public var message: String
  public var offset: Int

  public var description: String { "\(message) at offset \(offset)" }
}

private let emptyCString: StaticString = ""

/// The bytes of a UTF-8 buffer as the `const char *` jansson takes alongside an explicit length.
private func cString(_ utf8: UnsafeBufferPointer<UInt8>) -> UnsafePointer<CChar> {
  let base = utf8.baseAddress.map(UnsafeRawPointer.init) ?? UnsafeRawPointer(emptyCString.utf8Start)
  return base.assumingMemoryBound(to: CChar.self)
}
