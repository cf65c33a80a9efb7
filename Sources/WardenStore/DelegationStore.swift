import WardenCore
import WardenJSON

/// Everything warden keeps outside the conversation, as one interface: grants and forbids, their
/// revocation and change token, holds and their decisions, rate-limit uses, circuit-breaker trips,
/// and the audit chain with its head anchor and journals. `GrantStore` (SQLite, one file in
/// `$WARDEN_HOME`) is the only implementation today; another backend (PostgreSQL for teams) is a new
/// type conforming to it, and the relay and the commands work with `any DelegationStore`.
///
/// Every method is synchronous and throws `StoreError`; implementations are safe to share between
/// threads.
public protocol DelegationStore: AnyObject, Sendable {
  /// Warden's home: where the head file and the journals of the audit trail live.
  var home: String { get }
  /// Where the store is, for messages.
  var location: String { get }

  // Grants and forbids.
  func insert(_ grant: Grant) throws(StoreError)
  func grant(id: String) throws(StoreError) -> Grant?
  func allGrants() throws(StoreError) -> [Grant]
  func liveGrants(now: Int64) throws(StoreError) -> [Grant]
  func liveGrants(now: Int64, server: String) throws(StoreError) -> [Grant]
  func revoke(ids: [String], by: String, at: Int64) throws(StoreError) -> [String]
  func revoke(agent: String, by: String, at: Int64) throws(StoreError) -> [String]
  func revokeAll(by: String, at: Int64) throws(StoreError) -> [String]
  /// Moves whenever grants, forbids or breaker trips change, in any process.
  func changeToken() throws(StoreError) -> Int64
  /// Calls `handler` when a hold is created or decided by any process, where the backend can tell.
  func onHoldsChanged(_ handler: @escaping @Sendable () -> Void)

  // Rate limits.
  func recordUse(grantID: String, at: Int64) throws(StoreError)
  func useCount(grantID: String, since: Int64) throws(StoreError) -> Int

  // Holds.
  func createHold(_ hold: Hold) throws(StoreError)
  func hold(id: String) throws(StoreError) -> Hold?
  func pendingHolds(now: Int64) throws(StoreError) -> [Hold]
  func recentHolds(limit: Int) throws(StoreError) -> [Hold]
  func holdStates(ids: [String]) throws(StoreError) -> [String: Hold.State]
  @discardableResult
  func decide(
    holdID: String, state: Hold.State, by: String, channel: String, note: String?, at: Int64,
    attestation: Attestation
  ) throws(StoreError) -> Hold
  /// Decides several holds at once, in one transaction; only those ids (see `GrantStore`).
  func decide(
    holdIDs: [String], state: Hold.State, by: String, channel: String, note: String?, at: Int64,
    attestation: Attestation
  ) throws(StoreError) -> [HoldDecisionResult]

  // Circuit breakers.
  @discardableResult
  func tripBreaker(_ trip: BreakerTrip, session: String) throws(StoreError) -> Bool
  func breakerTrips() throws(StoreError) -> [BreakerTrip]
  func resetBreaker(agent: String) throws(StoreError) -> BreakerTrip?

  // Pinned tool definitions.
  func observeTools(
    server: String, command: String, definitions: [(tool: String, definition: String)], pinNew: Bool,
    at: Int64
  ) throws(StoreError) -> (changes: [(tool: String, state: ToolPin.State)], pinnedFirst: Bool)
  func toolPins(server: String?) throws(StoreError) -> [ToolPin]
  func driftedTools(server: String, command: String) throws(StoreError) -> [String: ToolPin.State]
  func acceptTools(server: String, tool: String?, by: String, at: Int64) throws(StoreError) -> [ToolPin]

  // The audit chain, its anchor and its journals.
  @discardableResult
  func appendAudit(_ records: [AuditRecord], journal: (session: String, through: Int64)?) throws(StoreError)
    -> [Int64]
  func finishAuditJournal(session: String) throws(StoreError)
  func recoverAuditJournals(now: Int64) -> GrantStore.JournalRecovery
  func auditDigestKey() throws(StoreError) -> [UInt8]
  func auditRecords(since: Int64?, agent: String?, server: String?) throws(StoreError) -> [AuditChain.Row]
  func auditChainForVerification() throws(StoreError) -> (
    [AuditChain.Row], Result<[AuditChain.Anchor], AuditHeadProblem>
  )
  /// The anchor: where the chain's head is appended after each write, beyond the store's reach.
  var auditHeadPath: String { get }
  func pruneAudit(_ plan: AuditPrune.Plan, record: JSONValue) throws(AuditPruneError) -> Int64
}

extension DelegationStore {
  /// Calls `handler` when a hold is created or decided by any process, where the backend can tell
  /// (PostgreSQL's notifications); the SQLite store cannot, and its holds are polled.
  public func onHoldsChanged(_ handler: @escaping @Sendable () -> Void) {}

  /// Appends records that come from no journal.
  @discardableResult
  public func appendAudit(_ records: [AuditRecord]) throws(StoreError) -> [Int64] {
    try appendAudit(records, journal: nil)
  }

  /// Appends records given as JSON objects, each with at least `at` (ms), `kind`, `agent`, `server`
  /// and `call`.
  @discardableResult
  public func appendAudit(_ records: [JSONValue]) throws(StoreError) -> [Int64] {
    try appendAudit(
      records.map { value throws(StoreError) -> AuditRecord in
        guard let record = AuditRecord(json: value) else {
          throw StoreError(.invalid, "an audit record must be a JSON object")
        }
        return record
      })
  }

  public func auditRecords() throws(StoreError) -> [AuditChain.Row] {
    try auditRecords(since: nil, agent: nil, server: nil)
  }

  @discardableResult
  public func decide(
    holdID: String, state: Hold.State, by: String, channel: String, note: String? = nil, at: Int64
  ) throws(StoreError) -> Hold {
    try decide(
      holdID: holdID, state: state, by: by, channel: channel, note: note, at: at, attestation: .warden)
  }
}

extension GrantStore: DelegationStore {
  public var location: String { databasePath }
}
