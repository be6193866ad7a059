/**
 * The configuration's type: each settings-table entry with an `at` is one field, typed from its declaration
 * (`settings.ts`); the loader (`config.ts`) adds the derived fields documented here. Apart from the loader so the
 * cross-setting rules (`rules.ts`) can name it without importing the loader that calls them.
 */
import type { StoreKind } from '../constants';
import type { Secret } from './Secret';
import type { SectionOf, SettingValues, TopLevelOf } from './settings';

type Env = Record<string, string | undefined>;
type LogLevel = SettingValues['LOG_LEVEL'];

/** The `webhook.*` settings (`at` in `settings.ts`). */
type WebhookConfig = SectionOf<'webhook'>;

interface PagerDutyConfig extends SectionOf<'pagerduty'> {
  /** The routing rules' JSON text: `PAGERDUTY_ROUTES`, or the contents of `PAGERDUTY_ROUTES_FILE`. @default undefined */
  routesText?: string;
  /** Which variable the rules came from, for problem lines. */
  routesSource: string;
  /** Why `dryRun` is on, for the banner and the logs (`dryRun` is also on, locally, when no routing key is set). */
  dryRunReason?: string;
}

interface StoreConfig extends Omit<SectionOf<'store'>, 'kind'> {
  /** `STORE`. @default 'tablestore' when deployed, 'file' locally (so it has no default in the table) */
  kind: StoreKind;
}

type RetryConfig = SectionOf<'retry'>;
type HealthConfig = SectionOf<'health'>;
type CredentialsConfig = SectionOf<'credentials'>;

/**
 * The configuration: each settings-table entry with an `at` is one field here, typed from its declaration; the
 * fields documented below are derived by the loader.
 */
interface BridgeConfig extends TopLevelOf {
  /** FC sets `FC_FUNCTION_NAME`; the local runtime never does. */
  deployed: boolean;
  /** `FC_FUNCTION_NAME` when deployed. */
  functionName?: string;
  webhook: WebhookConfig;
  pagerduty: PagerDutyConfig;
  store: StoreConfig;
  retry: RetryConfig;
  health: HealthConfig;
  credentials: CredentialsConfig;
  /** Every secret value configured, so the logger can scrub them from any line. */
  secrets: readonly Secret[];
}

export type {
  BridgeConfig,
  CredentialsConfig,
  Env,
  HealthConfig,
  LogLevel,
  PagerDutyConfig,
  RetryConfig,
  StoreConfig,
  WebhookConfig,
};
