import { EventEmitter } from 'node:events';
import {
  type AgentInfo,
  backoffDelayMs,
  describeErrors,
  type Logger,
  type PublicKeyRef,
  type RunClock,
  RunCoalescer,
  toDmrError,
} from '@dmr/shared';
import { Cron } from 'croner';
import type { RegistryConfig } from '../config/index.js';
import { judgeRegistryChange } from './change-guard.js';
import { judgeConfigVersion } from './config-version.js';
import { AgentListHistory, type ListPlan } from './list-history.js';
import {
  type AgentAttributes,
  diffRegistry,
  internUnchanged,
  isEmptyDiff,
  NO_ATTRIBUTES,
  type ParsedRegistry,
  parseRegistryDocument,
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
  /** After every sync; `changed` and `unchanged` mean the document read is in force (its config version too). */
  readonly onSync: (result: SyncResult, agentCount: number) => void;
}

/** How syncs are paced (tests inject a clock). */
export interface RegistrySyncPacing {
  /** Least time between the starts of two fetches, ms (default {@link MIN_SYNC_GAP_MS}). */
  readonly minGapMs?: number;
  readonly clock?: RunClock;
}

/**
 * Default least time between two registry fetches, ms: a flood of announcements (anyone who can publish to
 * `dmr.control`) costs the control plane at most this rate of reads per server, and a real push waits at most this long.
 */
export const MIN_SYNC_GAP_MS = 200;

const EMPTY_LIST: readonly AgentInfo[] = Object.freeze([]);

/**
 * The agent registry in force. Syncs at start, on the cron schedule and on demand (a push, SIGHUP) with at most one
 * fetch in flight and one queued; a document that fails validation, or is older than the config version in force, is
 * refused whole and the last good snapshot stays in force. Until the first good sync it retries on a short backoff, so a
 * slow CentOps at boot does not leave the server unready for a whole cron period.
 */
export class AgentRegistry extends EventEmitter<RegistryEvents> {
  #snapshot: RegistrySnapshot | undefined;
  // the list versions agents may hold, for deltas on connect (bounded: DEFAULT_LIST_HISTORY)
  readonly #lists = new AgentListHistory();
  #cron: Cron | undefined;
  #bootRetry: NodeJS.Timeout | undefined;
  #bootAttempt = 0;
  readonly #syncs: RunCoalescer<SyncResult>;
  #isStopped = false;
  // one-shot: set by sync({force}), spent by the next fetch that starts
  #isForcePending = false;
  #configVersion: number | undefined;
  #disabled: ReadonlySet<string> = new Set();
  #attributes: ReadonlyMap<string, AgentAttributes> = new Map();

  constructor(
    private readonly config: RegistryConfig,
    private readonly hooks: RegistryHooks,
    private readonly log: Logger,
    pacing: RegistrySyncPacing = {},
  ) {
    super();
    this.#syncs = new RunCoalescer(() => this.#sync(), {
      minGapMs: pacing.minGapMs ?? MIN_SYNC_GAP_MS,
      ...(pacing.clock ? { clock: pacing.clock } : {}),
    });
  }

  /** `dmr.configVersion` of the registry in force; undefined while none or an unversioned one is in force. */
  get configVersion(): number | undefined {
    return this.#configVersion;
  }

  /** True when the registry in force lists `agentId` in `dmr.disabled` (such an agent is never registered). */
  isDisabled(agentId: string): boolean {
    return this.#disabled.has(agentId);
  }

  /**
   * `institution` and `groups` of `agentId`'s entry in the registry in force (issue 19: the policy input), or
   * {@link NO_ATTRIBUTES} when it lists none or is not registered. A change of only these takes effect with the document
   * that carries it, without an agent-list change (agents never see them).
   */
  attributesOf(agentId: string): AgentAttributes {
    return this.#attributes.get(agentId) ?? NO_ATTRIBUTES;
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
   * Fetches, validates and applies the registry in a fetch that starts after this call: callers during a fetch share
   * the one queued after it, so a change announced while a fetch was in flight is never missed. `force` accepts the next
   * registry even when it removes more than CENTOPS_MAX_REMOVED_SHARE of the agents or carries an older config version
   * (an empty one still needs CENTOPS_ALLOW_EMPTY_REGISTRY). Resolves `failed` once stopped; never rejects.
   */
  async sync(options: { force?: boolean } = {}): Promise<SyncResult> {
    if (options.force) this.#isForcePending = true;
    return (await this.#syncs.trigger()) ?? 'failed';
  }

  /** Stops the schedule and waits for a running sync. Idempotent. */
  async stop(): Promise<void> {
    this.#isStopped = true;
    this.#cron?.stop();
    clearTimeout(this.#bootRetry);
    await this.#syncs.stop();
  }

  async #sync(): Promise<SyncResult> {
    const isForced = this.#isForcePending;
    this.#isForcePending = false;
    let result: SyncResult;
    try {
      this.#warnIfInsecure();
      result = await this.#fetchAndApply(isForced);
    } catch (error) {
      // never expected (each step reports its own failure); a rejection here would reach every waiting caller
      this.log.error({ err: toDmrError(error) }, 'agent registry sync failed unexpectedly; previous registry stays in force');
      result = 'failed';
    }
    this.hooks.onSync(result, this.#snapshot?.size ?? 0);
    if (!this.isLoaded && !this.#isStopped) this.#scheduleBootRetry();
    return result;
  }

  async #fetchAndApply(isForced: boolean): Promise<SyncResult> {
    let document: unknown;
    try {
      document = await fetchRegistryDocument(this.config.url, this.config.fetchTimeoutMs, this.config.trust);
    } catch (error) {
      const dmrError = toDmrError(error, 'DMR_REGISTRY_FETCH_FAILED');
      this.log.error({ code: dmrError.code, err: dmrError }, 'agent registry sync failed; previous registry stays in force');
      return dmrError.code === 'DMR_REGISTRY_INVALID' ? 'refused' : 'failed';
    }
    const parsed = parseRegistryDocument(document, this.config.reservedAgentIds);
    if (!parsed.ok) {
      this.log.error(
        { code: parsed.code, reason: describeErrors(parsed.errors) },
        'agent registry refused; previous registry stays in force',
      );
      return 'refused';
    }
    const version = judgeConfigVersion(this.#configVersion, parsed.value.configVersion, isForced);
    if (!version.ok) {
      this.log.error({ code: version.code, reason: version.reason }, 'agent registry refused; previous registry stays in force');
      return 'refused';
    }
    return this.#apply(parsed.value, isForced);
  }

  async #apply(document: ParsedRegistry, isForced: boolean): Promise<SyncResult> {
    const next = document.agents;
    const diff = diffRegistry(this.#snapshot ?? new Map(), next);
    if (this.#snapshot && isEmptyDiff(diff)) {
      this.#takeVersion(document);
      return 'unchanged';
    }
    const verdict = judgeRegistryChange(this.#snapshot, next, diff, this.config.trust, isForced, document.disabled);
    if (!verdict.ok) {
      this.log.error(
        { code: verdict.code, reason: verdict.reason, agents: next.size, removed: diff.removed.length },
        'agent registry refused; previous registry stays in force',
      );
      return 'refused';
    }
    if (isForced && diff.removed.length > 0) this.log.warn({ removed: diff.removed.length }, 'forced registry change applied');
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
    // before 'changed': the gateway asks which removed agents were disabled when it cuts them
    this.#takeVersion(document);
    this.log.info(
      {
        configVersion: document.configVersion,
        disabled: document.disabled.size,
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

  #takeVersion(document: ParsedRegistry): void {
    if (document.configVersion !== this.#configVersion) {
      this.log.info({ configVersion: document.configVersion, previous: this.#configVersion }, 'config version in force');
    }
    this.#configVersion = document.configVersion;
    this.#disabled = document.disabled;
    this.#lists.setDisabled(document.disabled);
    this.#attributes = document.attributes;
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
