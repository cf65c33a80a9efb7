import Testing
import WardenCore
import WardenJSON

/// Random sequences of everything that can happen to held calls (terminal decisions, answers in the
/// client's form, cancellations, deadlines, revocations, a failing store, the end), played against
/// the machine with a simulated store and delegation. Whatever the order, each request ends at most
/// once, only a recorded approval the delegation still allows forwards, and nothing stays held.
@Suite("The call machine under random sequences")
struct CallMachineSequenceTests {
  typealias Support = CallMachineTests

  /// The executor's part: a store where the first decision wins and nothing is decided after the
  /// deadline but an expiry; a delegation that may be revoked; a store that may fail.
  struct World {
    var machine = Support.machine(elicits: true)
    var store: [String: Hold] = [:]
    var now: Int64 = 0
    var revoked = false
    var storeFails = false
    /// Per request: how it ended (`forward` or `refuse`), in order.
    var endings: [RequestID: [String]] = [:]
    /// The request being cancelled was held when its cancellation came.
    var cancelHeld = false
    var cancelled: Set<Int64> = []
    var nextHold = 0

    mutating func run(_ event: CallMachine.Event, cancelling: RequestID? = nil) {
      var events = [event]
      while !events.isEmpty {
        for action in machine.handle(events.removeFirst()) {
          events += perform(action, cancelling: cancelling)
        }
      }
    }

    mutating func perform(_ action: CallMachine.Action, cancelling: RequestID?) -> [CallMachine.Event] {
      switch action {
      case .passThrough:
        // A cancellation of a held call reaches the server only after the call did.
        if let cancelling, cancelHeld { #expect(endings[cancelling] == ["forward"]) }
        return []
      case .forward(let line):
        let id = requestID(of: line)
        endings[id, default: []].append("forward")
        // Only an approval the store holds, while the delegation allows it.
        #expect(!revoked)
        #expect(store.values.contains { $0.createdAt == idNumber(id) && $0.state == .approved })
        return []
      case .refuse(let id, _, _, _):
        endings[id, default: []].append("refuse")
        return []
      case .reply:
        // Warden's own tool is never called in these sequences.
        Issue.record("unexpected reply")
        return []
      case .record(let request):
        guard !storeFails else { return [.holdNotRecorded(request.requestID, problem: "locked")] }
        nextHold += 1
        let id = "h_\(nextHold)"
        let hold = Support.hold(id, request: idNumber(request.requestID), deadline: now + 50)
        store[id] = hold
        return [.holdRecorded(request.requestID, hold)]
      case .decide(let record):
        guard !storeFails, var hold = store[record.holdID] else {
          return record.reportBack
            ? [
              .notRecorded(
                holdID: record.holdID, attempted: record.state, problem: "locked",
                afterCancel: record.afterCancel)
            ]
            : []
        }
        if hold.state == .pending, record.state == .expired || now < hold.deadline {
          hold.state = record.state
          hold.channel = record.channel
          hold.decidedBy = record.by
          store[record.holdID] = hold
        }
        return record.reportBack
          ? [
            .decided(
              holdID: record.holdID, outcome: hold, attempted: record.state, afterCancel: record.afterCancel)
          ]
          : []
      case .recheck(let holdID, let outcome, _, _, let afterCancel):
        let decision =
          revoked
          ? Authorization(verdict: .deny, reason: .notDelegated, explanation: "revoked") : Support.confirm
        return [
          .rechecked(
            holdID: holdID, outcome: outcome, call: Support.call, decision: decision, afterCancel: afterCancel
          )
        ]
      case .readDecisions(let ids):
        guard !storeFails else { return [.storeUnreadable(problem: "locked")] }
        return ids.compactMap { id in
          guard let hold = store[id], hold.state != .pending else { return nil }
          return .decided(holdID: id, outcome: hold, attempted: nil, afterCancel: false)
        }
      case .recordIntent(let id, _):
        // The store holds the record when it can be written at all.
        return storeFails ? [.intentNotRecorded(id, problem: "locked")] : [.intentRecorded(id, at: now)]
      case .ask, .askInResult, .withdraw, .log, .audit:
        return []
      }
    }

    func idNumber(_ id: RequestID) -> Int64 {
      if case .integer(let value) = id { return value }
      return -1
    }

    func requestID(of line: [UInt8]) -> RequestID {
      let value = try? JSONValue.parse(Array(line.dropLast()))
      return .integer(value?["id"]?.integerValue ?? -1)
    }
  }

  @Test(arguments: 0..<200)
  func anyOrderEndsEachRequestOnceAndForwardsOnlyApprovals(seed: UInt64) {
    var random = SplitMix(seed: seed)
    var world = World()
    var sent: [Int64] = []
    for _ in 0..<40 {
      switch random.next() % 10 {
      case 0, 1:
        let id = Int64(sent.count + 1)
        sent.append(id)
        world.run(Support.arrival(&world.machine, request: id, decision: Support.confirm))
      case 2:
        // A terminal decides a random pending hold.
        if let id = world.store.keys.sorted().randomElement(using: &random),
          world.store[id]?.state == .pending,
          world.now < world.store[id]!.deadline
        {
          world.store[id]!.state = random.next() % 2 == 0 ? .approved : .rejected
          world.store[id]!.channel = "cli"
        }
      case 3:
        if let id = sent.randomElement(using: &random) {
          world.cancelHeld = world.machine.book.entry(forRequest: .integer(id)) != nil
          world.cancelled.insert(id)
          world.run(.cancelled(.integer(id)), cancelling: .integer(id))
        }
      case 4:
        if let entry = world.machine.book.held.randomElement(using: &random), let question = entry.question {
          let code = random.next() % 2 == 0 ? "123456" : "000000"
          let answer = #"{"action":"accept","content":{"decision":"approve","code":"\#(code)"}}"#
          world.run(.questionAnswered(question, answer: .result(Array(answer.utf8))))
        }
      case 5:
        world.revoked.toggle()
      case 6:
        world.storeFails = random.next() % 4 == 0
      default:
        world.now += Int64(random.next() % 20)
        world.run(.tick(now: world.now))
      }
    }
    world.storeFails = false
    world.run(.end(note: "stopped", answer: true))
    #expect(world.machine.book.isEmpty)
    for (id, endings) in world.endings {
      #expect(endings.count == 1, "request \(id) ended \(endings)")
    }
    // Every call sent was held, so every one ended: forwarded, refused, or cancelled (by the client,
    // which needs no answer, or in the store).
    for id in sent where world.endings[.integer(id)] == nil && !world.cancelled.contains(id) {
      #expect(
        world.store.values.contains { $0.createdAt == id && $0.state == .cancelled },
        "request \(id) never ended")
    }
  }
}

/// A small seeded generator, so a failing sequence can be replayed.
struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
