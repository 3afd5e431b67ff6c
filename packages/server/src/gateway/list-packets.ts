import { AGENT_NAMESPACE, type AgentInfo, type AgentListArgument, EVENTS } from '@dmr/shared';
import type { ListPlan } from '../registry/index.js';

/** Socket.IO protocol v5 packet type of an EVENT (https://github.com/socketio/socket.io-protocol). */
const EVENT_PACKET_TYPE = '2';

/** The list event text packet, as `socket.emit(event, argument)` would write it. */
export function encodeListEvent(event: typeof EVENTS.fullList | typeof EVENTS.partialList, argument: AgentListArgument): string {
  return `${EVENT_PACKET_TYPE}${AGENT_NAMESPACE},${JSON.stringify([event, argument])}`;
}

/**
 * The list events sent on connect, as the Socket.IO v5 text packets `socket.emit` would write
 * (`2/v1/dmr-agent-events,["dmr:agents:full-list",[[…]]]`), encoded once per list or plan instead of once per
 * connection. With 5000 agents the full list is ~1.9 MB with bare keys and ~4 MB with certificates; serialising
 * it on each connect cost ~13 ms of server CPU, so a reconnect storm starved the event loop (measured in bench/).
 * Lists and plans are immutable and replaced on every registry change, so they key the cache by identity.
 */
export class ListPackets {
  readonly #cache = new WeakMap<object, string>();

  /** Seed 003's `dmr:agents:full-list` with `[agents]`, for agents that did not announce versioned lists. */
  legacyFull(agents: readonly AgentInfo[]): string {
    return this.#cached(agents, () => encodeListEvent(EVENTS.fullList, [agents]));
  }

  /** The packet for a versioned plan: undefined when the agent holds the current list (nothing is sent). */
  forPlan(plan: ListPlan): string | undefined {
    if (plan.kind === 'current') return undefined;
    return this.#cached(plan, () =>
      plan.kind === 'full'
        ? encodeListEvent(EVENTS.fullList, [
            plan.agents,
            plan.disabled.length > 0 ? { version: plan.version, disabled: plan.disabled } : { version: plan.version },
          ])
        : encodeListEvent(EVENTS.partialList, [plan.entries, { version: plan.version, baseVersion: plan.baseVersion }]),
    );
  }

  #cached(key: object, encode: () => string): string {
    let packet = this.#cache.get(key);
    if (packet === undefined) {
      packet = encode();
      this.#cache.set(key, packet);
    }
    return packet;
  }
}
