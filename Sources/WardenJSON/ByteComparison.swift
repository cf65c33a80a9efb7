/// Comparing text as bytes. Swift's `==` and `hasPrefix` on strings follow Unicode canonical
/// equivalence (the Kelvin sign equals `K`, a decomposed `é` equals the composed one), but file
/// systems, servers and JSON readers compare bytes: every comparison a decision rests on uses these.
extension StringProtocol {
  /// Whether both hold exactly the same UTF-8 bytes.
  @inlinable public func hasSameBytes(as other: some StringProtocol) -> Bool {
    utf8.elementsEqual(other.utf8)
  }

  /// Whether the UTF-8 bytes start with those of `prefix`.
  @inlinable public func startsWithBytes(of prefix: some StringProtocol) -> Bool {
    utf8.starts(with: prefix.utf8)
  }
}
