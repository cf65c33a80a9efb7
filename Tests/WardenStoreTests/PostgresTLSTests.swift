import Foundation
import Testing
import WardenCore
import WardenPostgres
import WardenStore

/// TLS as the URL asks for it, against the test cluster's certificate for `localhost` from a
/// throwaway CA (`WARDEN_TEST_POSTGRES_CA`, made by Tests/postgres.sh).
@Suite("TLS to the PostgreSQL store")
struct PostgresTLSTests {
  static var authority: String? {
    ProcessInfo.processInfo.environment["WARDEN_TEST_POSTGRES_CA"].flatMap { $0.isEmpty ? nil : $0 }
  }

  @Test(.enabled(if: PostgresStoreTests.enabled && authority != nil))
  func verifyFullChecksTheChainAndTheNameAndVerifyCAOnlyTheChain() throws {
    try withStore(.postgres) { (_, fixture) throws in
      let base = try #require(fixture.url)
      func url(host: String, _ mode: PostgresURL.TLSMode, root: String?) -> PostgresURL {
        var url = base
        url.host = host
        url.tls = mode
        url.rootCertificate = root
        return url
      }
      func open(_ url: PostgresURL) throws -> PostgresStore {
        try PostgresStore.open(url: url, password: fixture.password, home: fixture.home)
      }
      // The name and the chain check out: it works, and over TLS.
      let store = try open(url(host: "localhost", .verifyFull, root: Self.authority))
      _ = try store.changeToken()
      let encrypted = try fixture.sqlSucceeding(
        "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE ssl AND application_name = 'warden'"
      )
      #expect((Int(encrypted.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 1)
      // Another name than the certificate's: refused by verify-full, accepted by verify-ca.
      let wrongName = storeError { _ = try open(url(host: "127.0.0.1", .verifyFull, root: Self.authority)) }
      #expect(wrongName?.code == .cannotOpen && wrongName?.description.contains("TLS") == true)
      _ = try open(url(host: "127.0.0.1", .verifyCA, root: Self.authority)).changeToken()
      // A chain the trust roots do not vouch for: refused by both.
      for mode in [PostgresURL.TLSMode.verifyFull, .verifyCA] {
        let untrusted = storeError { _ = try open(url(host: "localhost", mode, root: nil)) }
        #expect(untrusted?.code == .cannotOpen && untrusted?.description.contains("TLS") == true)
        #expect(untrusted?.description.contains(fixture.password ?? "-") == false)
      }
    }
  }
}
