import { AGENT_NAMESPACE, type AgentInfo, EVENTS } from '@dmr/shared';

/** Socket.IO protocol v5 packet type of an EVENT (https://github.com/socketio/socket.io-protocol). */
const EVENT_PACKET_TYPE = '2';

/**
 * The `dmr:agents:full-list` event as the Socket.IO v5 text packet `socket.emit(EVENTS.fullList, [agents])` would
 * write (`2/v1/dmr-agent-events,["dmr:agents:full-list",[[…]]]`), encoded once per agent list instead of once per
 * connection. Every (re)connect sends the whole registry: with 5000 agents that is ~1.9 MB, and serialising it on each
 * connect cost ~13 ms of server CPU, so a reconnect storm starved the event loop (measured in bench/).
 */
export class FullListPacket {
  #source: readonly AgentInfo[] | undefined;
  #encoded = '';

  /** The packet for `agents`; re-encoded only when a different list (a new registry snapshot) comes in. */
  encode(agents: readonly AgentInfo[]): string {
    if (agents !== this.#source) {
      this.#source = agents;
      this.#encoded = `${EVENT_PACKET_TYPE}${AGENT_NAMESPACE},${JSON.stringify([EVENTS.fullList, [agents]])}`;
    }
    return this.#encoded;
  }
}
