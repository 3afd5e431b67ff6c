import type { ControlKind } from '@dmr/shared';
import type { Caller } from '../domain/index.js';
import type { ChangeActor, ControlStore, ControlTransaction } from '../store/index.js';

/** Announces a committed write on `dmr.control` (a hint: never throws, never awaited by the caller's answer). */
export type Announce = (kinds: readonly ControlKind[], configVersion: number) => void;

/** What a write needs: the store, the announcer and who writes. */
export interface WriteContext {
  readonly store: ControlStore;
  readonly announce: Announce;
  readonly caller: Caller;
}

/** A committed write: what `fn` returned and the configVersion it produced. */
export interface Committed<T> {
  readonly value: T;
  readonly configVersion: number;
}

/**
 * Runs one config write as one store transaction: `fn` validates what needs the store, writes and appends its change
 * log entries (with {@link actorOf}); the configVersion is bumped once in the same transaction; after the commit the
 * change is announced with `kinds` (or the kinds `kinds(value)` names). A throw in `fn` (an ApiError for a refusal) rolls everything back, log and version
 * included, so nothing is half-written. With `isNoop` returning true for `fn`'s value nothing is bumped or announced
 * (an import that changes nothing); the transaction still commits (its change log entries are none then).
 */
export async function commitWrite<T>(
  context: WriteContext,
  kinds: readonly ControlKind[] | ((value: T) => readonly ControlKind[]),
  fn: (tx: ControlTransaction, actor: ChangeActor) => Promise<T>,
  isNoop: (value: T) => boolean = () => false,
): Promise<Committed<T>> {
  const actor = actorOf(context.caller);
  const committed = await context.store.transaction(async (tx) => {
    const value = await fn(tx, actor);
    const configVersion = isNoop(value) ? await tx.configVersion() : await tx.bumpConfigVersion();
    return { value, configVersion, isChange: !isNoop(value) };
  });
  if (committed.isChange) context.announce(typeof kinds === 'function' ? kinds(committed.value) : kinds, committed.configVersion);
  return { value: committed.value, configVersion: committed.configVersion };
}

/** The change log's actor of a caller: the SAN URI and the role. */
export function actorOf(caller: Caller): ChangeActor {
  return { subject: caller.uri, role: caller.role };
}
