/// The messages `--seed` puts into an empty mailbox's inbox.
enum SampleMessages {
  static func all(to owner: String) -> [Message] {
    [
      Message(
        id: "msg-20261117-0a1f9c42", from: "it-helpdesk@example.com", to: owner,
        subject: "Scheduled maintenance this Saturday", date: "2026-11-17T08:05:00Z",
        body: """
          Hello,

          The VPN gateway and the build farm will be down for maintenance on Saturday from 06:00 to 10:00 \
          UTC. Please push your work before Friday evening.

          IT Helpdesk
          """),
      Message(
        id: "msg-20261119-5d2e7b10", from: "maria.kowalski@example.com", to: owner,
        subject: "Q4 planning notes", date: "2026-11-19T14:32:00Z",
        body: """
          Hi,

          Attached below are my notes from today's planning session:
          - ship the audit log exporter before the holidays
          - move the policy review to the first week of January
          - Tom owns the on-call rotation for December

          Let me know if I missed anything.
          Maria
          """),
      Message(
        id: "msg-20261121-c81b03fe", from: "noreply@calendar.example.com", to: owner,
        subject: "Invitation: Design review (Tue 10:00)", date: "2026-11-21T09:00:00Z",
        body: """
          You have been invited to "Design review: request confirmation flow".
          When: Tuesday 10:00-11:00 UTC
          Where: Room 4B / video link in the calendar entry
          """),
      Message(
        id: "msg-20261122-7f4460aa", from: "billing@cloudhost.example.net", to: owner,
        subject: "Your invoice for November is ready", date: "2026-11-22T06:12:00Z",
        body: """
          Your invoice INV-2026-1183 for 412.80 EUR is available in the billing console.
          Payment will be collected automatically on December 1.
          """),
      Message(
        id: "msg-20261123-2b9d5e37", from: "tom.berger@example.com", to: owner,
        subject: "Re: on-call handover", date: "2026-11-23T17:48:00Z",
        body: """
          Sounds good. I'll take the pager from Monday. Could you forward me the runbook for the \
          proxy restarts? The old link in the wiki is dead.

          Thanks,
          Tom
          """),
    ]
  }
}
