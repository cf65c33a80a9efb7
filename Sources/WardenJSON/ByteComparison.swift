/// Comparing text as bytes. Swift's `==` and `hasPrefix` on strings follow Unicode canonical
/// equivalence (the Kelvin sign equals `K`, a decomposed `é` equals the composed one), but file
/// systems, servers and JSON readers compare bytes: every comparison a decision rests on uses these.
extension StringProtocol {
  /// Whether both hold exactly the same UTF-8 bytes.
  @inlinable public func hasSameBytes(as other: some StringProtocol) -> Bool {
    let mine = utf8
    let theirs = other.utf8
    // Native strings are contiguous UTF-8: compare the buffers (this runs for every grant a
    // decision looks at, so no byte-by-byte iteration of the views).
    if let same = mine.withContiguousStorageIfAvailable({ left in
      theirs.withContiguousStorageIfAvailable { right in
        left.count == right.count && left.elementsEqual(right)
      }
    }), let same {
      return same
    }
    return mine.elementsEqual(theirs)
  }

}
