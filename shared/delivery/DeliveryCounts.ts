/**
 * What the two delivery reports count the same way: the webhook's answer for one callback (`DeliverySummary`, its 2xx
 * body) and the relay's report of one run over the due rows (`RelayResult`). The rest of each differs because they
 * answer different questions: the webhook accounts for every alert ARMS sent (received, duplicates, queued, dry-run,
 * rejected, lost), the relay for the rows it read and what it left (due, attempted, retrying, lost races, deferred,
 * more). A DEAD row is the webhook's `failed` and the relay's `dead`: the answer body keeps the name its readers
 * know.
 */
interface DeliveryCounts {
  /** Sent to PagerDuty and accepted (202). */
  delivered: number;
  /** Stored, never sent: out of order (a stale occurrence, or resolved before its trigger was delivered). */
  superseded: number;
  /** Failed attempts by reason (auth, rate-limited, client, server, network). */
  failures: Record<string, number>;
}

export type { DeliveryCounts };
