import Testing
import WardenCore

/// Finding: a revocation undone by a race. Refreshes run on several threads; one that read the store
/// before a revocation must not install its older grants over the newer snapshot.
@Suite("The grant snapshot only moves forward")
struct GrantSnapshotTests {
  static let grant = Grant(
    id: "g_a", effect: .allow, actions: ["x.y"], purpose: "p", issuedBy: "h", issuedAt: 0, expiresAt: nil)

  @Test func anOlderReadCannotReplaceANewerOne() {
    var snapshot = GrantSnapshot()
    // Thread A read token 4 (the grant in force); thread B read token 5 (after `warden revoke`).
    let offered1 = snapshot.offer(token: 5, live: [], grants: GrantSet([]))
    #expect(offered1)
    let offered2 = snapshot.offer(token: 4, live: [Self.grant], grants: GrantSet([Self.grant]))
    #expect(!offered2)
    #expect(snapshot.token == 5)
    #expect(snapshot.live.isEmpty)
  }

  @Test func theSameOrANewerTokenIsInstalled() {
    var snapshot = GrantSnapshot()
    let offered3 = snapshot.offer(token: 1, live: [Self.grant], grants: GrantSet([Self.grant]))
    #expect(offered3)
    let offered4 = snapshot.offer(token: 1, live: [], grants: GrantSet([]))
    #expect(offered4)
    let offered5 = snapshot.offer(token: 2, live: [Self.grant], grants: GrantSet([Self.grant]))
    #expect(offered5)
    #expect(snapshot.live.map(\.id) == ["g_a"])
  }
}
