/**
 * PagerDuty `dedup_key`s. A key must stay the same for the life of an incident (a resolve under another key is
 * dropped by PagerDuty) and must never exceed 255 characters (reference §1.2, §1.4).
 */
import type { AlertGroup } from '../alerts/types';
import { DEDUP_KEY_MAX } from '../constants';
import { sha256Hex } from '../sha256';

/** Prefix of a per-alert key that had to be hashed; the hex digest follows. */
const HASHED_KEY_PREFIX = 'sha256:';
/**
 * Prefix and version of per-group keys. Changing the canonical form below orphans every open per-group incident, so
 * it must bump the version (as `IDENTITY_VERSION` does for alert identities).
 */
const GROUP_KEY_PREFIX = 'group:v1:';

/**
 * The `dedup_key` of a per-alert event: the alert identity itself (readable in PagerDuty, and the same key ARMS's
 * fingerprint gives), or, when an identity is longer than PagerDuty accepts, a stable hash of it.
 *
 * @example
 * alertDedupKey('bec72890cc2c7b4a027e008df0cd1013'); // { key: 'bec72890cc2c7b4a027e008df0cd1013', hashed: false }
 */
function alertDedupKey(identity: string): { key: string; hashed: boolean } {
  if (identity.length > 0 && identity.length <= DEDUP_KEY_MAX) return { key: identity, hashed: false };
  return { key: HASHED_KEY_PREFIX + sha256Hex(identity), hashed: true };
}

/**
 * The `dedup_key` of a per-group event: `group:v1:` + SHA-256 of the route name, the receiver and the group labels
 * sorted by name. Like Alertmanager's group key (route + group labels, reference §2.1), it stays the same while the
 * group's alerts come and go, and two notification policies (receivers) or two routes never share an incident.
 * Renaming the route or the receiver, or changing the grouping labels, starts a new incident.
 *
 * @example
 * groupDedupKey({ receiver: 'ops', groupLabels: { alertname: 'HighCPU' } }, 'db'); // 'group:v1:…64 hex digits'
 */
function groupDedupKey(group: Pick<AlertGroup, 'receiver' | 'groupLabels'>, routeName: string): string {
  const labels = Object.entries(group.groupLabels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // JSON of an array keeps the parts unambiguous (no separator can be forged by a label value).
  const canonical = JSON.stringify(['pagerduty-group', routeName, group.receiver ?? '', labels]);
  return GROUP_KEY_PREFIX + sha256Hex(canonical);
}

export { alertDedupKey, GROUP_KEY_PREFIX, groupDedupKey, HASHED_KEY_PREFIX, sha256Hex };
