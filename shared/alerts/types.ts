import type { AlertStatus, CallbackFormat, Severity } from '../constants';

/** A link worth showing on the PagerDuty alert (runbook, ARMS page, dashboard, generator). */
interface AlertLink {
  href: string;
  text: string;
}

/** An image worth showing on the PagerDuty alert. Only `https:` sources survive normalization. */
interface AlertImage {
  src: string;
  href?: string;
  alt?: string;
}

/**
 * One alert, normalized from either an ARMS `$alertmanager_content` body or an Alertmanager webhook v4.
 * Everything the PagerDuty event builder and the store need, and nothing format-specific.
 */
interface Alert {
  /** Stable per alert identity: `fingerprint`, else `v1:` + hash of the canonical label set. PD's `dedup_key`. */
  identity: string;
  /** Where the identity came from. */
  identitySource: 'fingerprint' | 'labels';
  /** From `alerts[].status` only, never from `endsAt`. */
  status: AlertStatus;
  /** `startsAt` as epoch ms; absent when missing, zero or invalid. Distinguishes occurrences. */
  startsAt?: number;
  /** `endsAt` as epoch ms; absent when missing, zero, invalid or before `startsAt`. */
  endsAt?: number;
  /** Severity from the alert's own labels; absent when no label holds a known value (the route default applies). */
  severity?: Severity;
  /** Which label gave `severity` (for custom_details and logs). */
  severitySource?: 'severity' | '_aliyun_arms_alert_level';
  /** Human title with placeholders rendered; not yet truncated (the event builder cuts to 1024 code points). */
  summary: string;
  /** Never blank. */
  source: string;
  component?: string;
  group?: string;
  class?: string;
  links: AlertLink[];
  images: AlertImage[];
  labels: Record<string, string>;
  /** As sent (placeholders unrendered), for `custom_details`. */
  annotations: Record<string, string>;
  generatorURL?: string;
  /**
   * Candidate for PD's `client_url`: the group's `externalURL` (ARMS: the alert's page in the ARMS console), else
   * `generatorURL`; only `http(s):` URLs.
   */
  clientUrl?: string;
}

/** A per-alert problem: the alert at `index` of `alerts[]` was not forwarded, for `reason`. */
interface RejectedAlert {
  index: number;
  reason: string;
}

/** One webhook callback (a notification group), normalized. */
interface AlertGroup {
  format: CallbackFormat;
  /** Group status as sent; informational only (each alert carries its own). */
  status?: string;
  receiver?: string;
  externalURL?: string;
  groupKey?: string;
  version?: string;
  truncatedAlerts?: number;
  notificationReason?: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  /** The valid alerts, in callback order. */
  alerts: Alert[];
  /** The alerts that were not valid, with their index and reason. */
  rejected: RejectedAlert[];
}

export type { Alert, AlertGroup, AlertImage, AlertLink, RejectedAlert };
