import Testing
import WardenCore
import WardenJSON

@Suite("The hold book")
struct HoldBookTests {
  static func entry(_ id: String, request: RequestID, createdAt: Int64 = 0) -> HoldBook.Entry {
    let hold = Hold(
      id: id, server: "s", agent: "a", tool: "t", arguments: "{}", digest: "d", action: "x.y", resources: [],
      reason: "destructive", explanation: "e", grantID: nil, purpose: nil, holderPID: 1, createdAt: createdAt,
      deadline: 100)
    return HoldBook.Entry(
      hold: hold, requestID: request, line: Array("{}".utf8), params: nil,
      call: ToolCall(server: "s", agent: "a", tool: "t", arguments: .object([])),
      decision: Authorization(verdict: .confirm, reason: .destructive, explanation: "e"), perRequestEra: false
    )
  }

  @Test func aHoldIsTakenOnceWhicheverChannelDecides() {
    var book = HoldBook()
    book.hold(Self.entry("h_1", request: .integer(7)))
    #expect(book.entry(forRequest: .integer(7))?.hold.id == "h_1")
    #expect(book.entry(forRequest: .string("7")) == nil)
    #expect(book.take(holdID: "h_1") != nil)
    #expect(book.take(holdID: "h_1") == nil)
    #expect(book.isEmpty)
  }

  @Test func anAnsweredQuestionIsNotWithdrawnAndAnUnansweredOneIs() {
    var book = HoldBook()
    book.hold(Self.entry("h_1", request: .integer(1)))
    book.hold(Self.entry("h_2", request: .integer(2)))
    book.asked(holdID: "h_1", question: .string("w-1"))
    book.asked(holdID: "h_2", question: .string("w-2"))
    // The client answers the first question: the hold is still there, its question closed.
    #expect(book.questionAnswered(.string("w-1"))?.hold.id == "h_1")
    #expect(book.questionAnswered(.string("w-1")) == nil)
    #expect(book.questionAnswered(.string("nobody-asked")) == nil)
    #expect(book.take(holdID: "h_1")?.question == nil)
    // The second is decided elsewhere: its open question comes back to be withdrawn.
    #expect(book.take(holdID: "h_2")?.question == .string("w-2"))
  }

  @Test func heldCallsAreListedOldestFirst() {
    var book = HoldBook()
    book.hold(Self.entry("h_b", request: .integer(2), createdAt: 20))
    book.hold(Self.entry("h_a", request: .integer(1), createdAt: 10))
    #expect(book.held.map(\.hold.id) == ["h_a", "h_b"])
  }

  @Test func aConfirmationWorksOnceAndOverdueRetriesExpire() {
    var book = HoldBook()
    var early = Self.entry("h_1", request: .integer(1)).hold
    early.deadline = 50
    var late = Self.entry("h_2", request: .integer(2)).hold
    late.deadline = 150
    book.awaitRetry(early)
    book.awaitRetry(late)
    #expect(book.overdueRetries(now: 100) == ["h_1"])
    #expect(book.overdueRetries(now: 100).isEmpty)
    let first = book.useConfirmation(holdID: "h_2")
    let second = book.useConfirmation(holdID: "h_2")
    #expect(first == .first(late))
    #expect(second == .reused)
    // The first use of a confirmation no longer awaited (its deadline passed) is late.
    let overdue = book.useConfirmation(holdID: "h_1")
    #expect(overdue == .late)
    // A used confirmation is no longer awaited.
    #expect(book.overdueRetries(now: 1000).isEmpty)
  }

  @Test func afterThreeWrongCodesTheClientIsNoLongerAsked() {
    var book = HoldBook()
    for _ in 0..<(HoldBook.wrongCodesTolerated - 1) { book.noteWrongCode() }
    #expect(book.clientMayBeAsked)
    book.noteWrongCode()
    #expect(!book.clientMayBeAsked)
  }
}
