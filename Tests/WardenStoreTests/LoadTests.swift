import Foundation
import Testing
import WardenCore
import WardenStore

@Suite struct LoadTests {
  /// 10,000 grants, inserted one transaction each, then loaded; the times are printed, never asserted.
  /// Measured on a 2-vCPU Linux VM, ext4: debug build 0.85-1.5 s for the 10,000 inserts and 40 ms for
  /// liveGrants (9,000 live); release build 0.40-0.43 s and 13-16 ms (about 1.6 us a grant).
  @Test func tenThousandGrants() throws {
    try withTemporaryHome { home in
      let store = try GrantStore.open(home: home)
      let clock = ContinuousClock()
      let insertTime = try clock.measure {
        for index in 0..<10_000 {
          var grant = makeGrant(
            String(format: "g_%05d", index), agent: "agent-\(index % 50)", issuedAt: Int64(index),
            expiresAt: index % 10 == 0 ? 5_000 : 1_000_000)
          grant.resources = ["repo:/srv/app\(index)", "file:/srv/app\(index)/**"]
          try store.insert(grant)
        }
      }
      var live: [Grant] = []
      let loadTime = try clock.measure { live = try store.liveGrants(now: 10_000) }
      #expect(live.count == 9_000)
      #expect(try store.allGrants().count == 10_000)
      print("10,000 inserts: \(insertTime); liveGrants (9,000 of 10,000): \(loadTime)")
    }
  }
}
