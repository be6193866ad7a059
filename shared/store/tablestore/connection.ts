/**
 * The Tablestore client: built from credentials on first use, rebuilt when they change (STS tokens rotate), with a
 * keep-alive agent, a socket timeout, SDK retries off, and a hard per-call deadline of our own (`reference/tablestore.md`
 * §2, §6, §7). Credentials stay `Secret`s until the client is built: `reveal()` is called here and nowhere else.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { StoreError } from '../../errors';
import type { CloudCredentials } from '../../fc/credentials';
import { takingPreconnected } from '../../preconnect';
import { DEADLINE_EXCEEDED } from './errors';
import { loadTablestoreSdk, type SdkClient } from './sdk';

/**
 * SDK retries, PROCESS-GLOBAL (every request copies `maxRetries` into `TableStore.DefaultRetryPolicy`, reference §6).
 * Off: the SDK never retries writes anyway, and its read retries (200 ms base, up to 3 s apart) would run past our
 * deadline. The adapter retries both itself, inside the operation's budget.
 */
const SDK_MAX_RETRIES = 0;
/** Sockets kept per client; the webhook's batches run at most this many calls at once. */
const MAX_SOCKETS = 16;

/** Where the connection reads the configured credentials before each call (the FC context's win when handed over). */
type CredentialsSource = () => CloudCredentials | undefined;

interface TablestoreConnectionOptions {
  /** `TABLESTORE_ENDPOINT`: `https://<instance>.<region>.ots.aliyuncs.com` (http:// for a local server). */
  endpoint: string;
  /** `TABLESTORE_INSTANCE`. */
  instance: string;
  /** `STORE_TIMEOUT_MS`: also the socket idle timeout, so a hung socket is closed soon after our deadline. */
  timeoutMs: number;
  credentials: CredentialsSource;
}

/**
 * Where the store's calls get their SDK client: the seam a test injects an in-process client through. The deployed
 * source is `TablestoreConnection`.
 */
interface SdkClientSource {
  /** The client for the current credentials; throws a (non-ambiguous) `StoreError` when there are none. */
  client(): SdkClient;
  /** The FC context's credentials for this invocation: they win over the configured ones until replaced. */
  useCredentials(credentials: CloudCredentials | undefined): void;
  /** Releases idle sockets; the source stays usable. */
  close(): void;
}

/** One client per credential set: built lazily, rebuilt when the credentials change. */
class TablestoreConnection implements SdkClientSource {
  readonly #options: TablestoreConnectionOptions;
  readonly #agent: http.Agent;
  #client?: SdkClient;
  #fingerprint?: string;
  #contextCredentials?: CloudCredentials;

  public constructor(options: TablestoreConnectionOptions) {
    this.#options = options;
    const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS };
    // Without its own agent the SDK uses a non-keep-alive HTTPS agent: a TLS handshake per call (reference §7).
    // The socket init opened to the endpoint (`preconnect`), if any, carries the first call.
    this.#agent = takingPreconnected(
      options.endpoint.startsWith('https:') ? new https.Agent(agentOptions) : new http.Agent(agentOptions),
    );
  }

  public useCredentials(credentials: CloudCredentials | undefined): void {
    this.#contextCredentials = credentials;
  }

  /** The client for the current credentials. Throws a (non-ambiguous) `StoreError` when there are none. */
  public client(): SdkClient {
    const credentials = this.#contextCredentials ?? this.#options.credentials();
    if (credentials === undefined) {
      throw new StoreError(
        'tablestore: no credentials (set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or give the function a role)',
      );
    }
    const id = credentials.accessKeyId.reveal();
    const secret = credentials.accessKeySecret.reveal();
    const token = credentials.securityToken?.reveal();
    // Compared by digest, so no plain secret is kept beyond the SDK's own copy.
    const fingerprint = createHash('sha256')
      .update(`${id}\n${secret}\n${token ?? ''}`)
      .digest('hex');
    if (this.#client === undefined || fingerprint !== this.#fingerprint) {
      const TableStore = loadTablestoreSdk();
      this.#client = new TableStore.Client({
        accessKeyId: id,
        secretAccessKey: secret,
        stsToken: token,
        endpoint: this.#options.endpoint,
        instancename: this.#options.instance,
        maxRetries: SDK_MAX_RETRIES,
        httpOptions: { timeout: this.#options.timeoutMs, agent: this.#agent },
      });
      this.#fingerprint = fingerprint;
    }
    return this.#client;
  }

  /** Closes idle keep-alive sockets (tests, scripts); the connection stays usable. */
  public close(): void {
    this.#agent.destroy();
  }
}

/**
 * Settles with `call`, or rejects with a `DeadlineExceeded` error after `ms`. The SDK request itself cannot be
 * aborted: it ends with the socket timeout, and its late answer is ignored.
 */
function withDeadline<T>(call: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: DEADLINE_EXCEEDED }));
    }, ms);
    call.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

export type { SdkClientSource, TablestoreConnectionOptions };
export { TablestoreConnection, withDeadline };
