import { EventEmitter } from 'node:events';
import { type AgentInfo, backoffDelayMs, describeErrors, type Logger, type PublicKeyRef, toDmrError } from '@dmr/shared';
import { Cron } from 'croner';
import type { RegistryConfig } from '../config/index.js';
import { judgeRegistryChange } from './change-guard.js';
import { AgentListHistory, type ListPlan } from './list-history.js';
import {
  diffRegistry,
  internUnchanged,
  isEmptyDiff,
  parseRegistry,
  type RegistryDiff,
  type RegistrySnapshot,
} from './registry-snapshot.js';
import { fetchRegistryDocument } from './registry-source.js';

/** The agent list versions a registry change went between (`baseVersion` undefined on the first load). */
export interface ListChange {
  readonly version: string;
  readonly baseVersion: string | undefined;
}

/** Typed listener map of {@link AgentRegistry}. */
export interface RegistryEvents {
  changed: [diff: RegistryDiff, versions: ListChange];
}

/** Outcome of one sync, for metrics. */
export type SyncResult = 'changed' | 'unchanged' | 'refused' | 'failed';

/** Hooks the registry calls; `prepare` runs before a new snapshot takes effect (e.g. declare queues). */
export interface RegistryHooks {
  readonly prepare: (diff: RegistryDiff) => Promise<void>;
  readonly onSync: (result: SyncResult, agentCount: number) => void;
}

const EMPTY_LIST: readonly AgentInfo[] = Object.freeze([]);

/**
 * The agent registry in force. Syncs at start, on the cron schedule and on demand; a document that
 * fails validation is refused whole and the last good snapshot stays in force. Until the first good
 * sync it retries on a short backoff, so a slow CentOps at boot does not leave the server unready for a whole cron period.
 */
export class AgentRegistry extends EventEmitter<RegistryEvents> {
  #snapshot: RegistrySnapshot | undefined;
  // the list versions agents may hold, for deltas on connect (bounded: DEFAULT_LIST_HISTORY)
  readonly #lists = new AgentListHistory();
  #cron: Cron | undefined;
  #bootRetry: NodeJS.Timeout | undefined;
  #bootAttempt = 0;
  #syncing: Promise<SyncResult> | undefined;
  #isStopped = false;
  // one-shot: set by sync({force}), spent by the next registry that is applied
  #isForced = false;

  constructor(
    private readonly config: RegistryConfig,
    private readonly hooks: RegistryHooks,
    private readonly log: Logger,
  ) {
    super();
  }

  /** True once a valid registry is in force. */
  get isLoaded(): boolean {
    return this.#snapshot !== undefined;
  }

  /** Registered agent ids. */
  agentIds(): string[] {
    return [...(this.#snapshot?.keys() ?? [])];
  }

  /** The agent list as sent in `full-list`: one frozen array per registry snapshot, so callers can cache by identity. */
  agentInfos(): readonly AgentInfo[] {
    return this.#lists.current?.agents ?? EMPTY_LIST;
  }

  /** Version of the agent list in force (see `agentListVersion`); undefined until the first good sync. */
  get listVersion(): string | undefined {
    return this.#lists.current?.version;
  }

  /**
   * What to send on connect to an agent holding list `baseVersion` (undefined: none): nothing, a delta or the full
   * list. Undefined until the first good sync. Plans are cached per version, so callers may cache by identity.
   */
  listPlan(baseVersion: string | undefined): ListPlan | undefined {
    return this.#lists.plan(baseVersion);
  }

  /** True when `agentId` is registered. */
  has(agentId: string): boolean {
    return this.#snapshot?.has(agentId) ?? false;
  }

  /** The public key of `agentId`, if registered. */
  keyOf(agentId: string): PublicKeyRef | undefined {
    return this.#snapshot?.get(agentId)?.key;
  }

  /** First sync, then the schedule. Does not throw when the first sync fails: readiness says so. */
  async start(): Promise<void> {
    this.#cron = new Cron(this.config.cronTime, { protect: true }, () => this.sync().then(() => undefined));
    await this.sync();
  }

  /**
   * Fetches, validates and applies the registry once; concurrent callers share the run. `force` accepts this one
   * registry even when it removes more than CENTOPS_MAX_REMOVED_SHARE of the agents (an empty one still needs
   * CENTOPS_ALLOW_EMPTY_REGISTRY).
   */
  sync(options: { force?: boolean } = {}): Promise<SyncResult> {
    if (options.force) this.#isForced = true;
    this.#syncing ??= this.#sync().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  /** Stops the schedule and waits for a running sync. Idempotent. */
  async stop(): Promise<void> {
    this.#isStopped = true;
    this.#cron?.stop();
    clearTimeout(this.#bootRetry);
    await this.#syncing;
  }

  async #sync(): Promise<SyncResult> {
    this.#warnIfInsecure();
    const result = await this.#fetchAndApply();
    this.#isForced = false;
    this.hooks.onSync(result, this.#snapshot?.size ?? 0);
    if (!this.isLoaded && !this.#isStopped) this.#scheduleBootRetry();
    return result;
  }

  async #fetchAndApply(): Promise<SyncResult> {
    let document: unknown;
    try {
      document = await fetchRegistryDocument(this.config.url, this.config.fetchTimeoutMs, this.config.trust);
    } catch (error) {
      const dmrError = toDmrError(error, 'DMR_REGISTRY_FETCH_FAILED');
      this.log.error({ code: dmrError.code, err: dmrError }, 'agent registry sync failed; previous registry stays in force');
      return dmrError.code === 'DMR_REGISTRY_INVALID' ? 'refused' : 'failed';
    }
    const parsed = parseRegistry(document, this.config.reservedAgentIds);
    if (!parsed.ok) {
      this.log.error(
        { code: parsed.code, reason: describeErrors(parsed.errors) },
        'agent registry refused; previous registry stays in force',
      );
      return 'refused';
    }
    return this.#apply(parsed.value);
  }

  async #apply(next: RegistrySnapshot): Promise<SyncResult> {
    const diff = diffRegistry(this.#snapshot ?? new Map(), next);
    if (this.#snapshot && isEmptyDiff(diff)) return 'unchanged';
    const verdict = judgeRegistryChange(this.#snapshot, next, diff, this.config.trust, this.#isForced);
    if (!verdict.ok) {
      this.log.error(
        { code: verdict.code, reason: verdict.reason, agents: next.size, removed: diff.removed.length },
        'agent registry refused; previous registry stays in force',
      );
      return 'refused';
    }
    if (this.#isForced && diff.removed.length > 0) this.log.warn({ removed: diff.removed.length }, 'forced registry change applied');
    try {
      await this.hooks.prepare(diff);
    } catch (error) {
      // the broker setup re-asserts queues for every agent on reconnect, so apply anyway
      this.log.warn(
        { err: toDmrError(error) },
        'could not prepare queues for registry change; they are asserted on the next broker connect',
      );
    }
    const baseVersion = this.#lists.current?.version;
    this.#snapshot = internUnchanged(this.#snapshot ?? new Map(), next);
    const { version } = this.#lists.record(this.#snapshot);
    this.log.info(
      {
        agents: next.size,
        added: diff.added.length,
        removed: diff.removed.length,
        rekeyed: diff.rekeyed.length,
        updated: diff.updated.length,
      },
      'agent registry applied',
    );
    this.emit('changed', diff, { version, baseVersion });
    return 'changed';
  }

  /** Loud on every sync: an unverified registry lets whoever sits on the path hand out agent keys. */
  #warnIfInsecure(): void {
    const { url, trust } = this.config;
    const isPlainHttp = url.startsWith('http:');
    const isUnverified = url.startsWith('https:') && !trust.verifyTls;
    if (!isPlainHttp && !isUnverified) return;
    this.log.warn(
      { url, insecure: isPlainHttp ? 'http' : 'tls-verification-off' },
      'DMR_ALLOW_INSECURE_REGISTRY=true: the agent registry (every agent key) is fetched without TLS verification; never in production',
    );
  }

  #scheduleBootRetry(): void {
    clearTimeout(this.#bootRetry);
    const delayMs = backoffDelayMs(this.#bootAttempt++, { initialDelayMs: 1000, maxDelayMs: 60_000 });
    this.#bootRetry = setTimeout(() => void this.sync(), delayMs);
  }
}
