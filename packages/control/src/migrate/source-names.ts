// @dmr/shared/base, not the root entry: dmrctl's command tree parses these flags before any command runs
import { agentDeadLetterQueueName, agentQueueName, isAgentId } from '@dmr/shared/base';

/** Where the `{id}` placeholder goes in a source queue template. */
export const ID_PLACEHOLDER = '{id}';
/** Seed 003's per-agent queue: the bare agent id. */
export const DEFAULT_SOURCE_QUEUE_TEMPLATE = '{id}';
/** Seed 003's dead-letter queue, assumed (the seed does not name it): `<id>.dlq`. */
export const DEFAULT_SOURCE_DLQ_TEMPLATE = '{id}.dlq';

/** The two source queues of one agent and where their messages go. */
export interface QueuePair {
  readonly agentId: string;
  readonly source: string;
  readonly sourceDeadLetters: string;
  readonly inbox: string;
  readonly deadLetters: string;
}

/** Why `template` cannot name seed-003 queues, or undefined when it can: exactly one `{id}`, and never a DMR name. */
export function templateProblem(template: string): string | undefined {
  if (template.split(ID_PLACEHOLDER).length !== 2) return `"${template}" must hold ${ID_PLACEHOLDER} exactly once`;
  if (template.startsWith('dmr.')) return `"${template}" names DMR's own queues (dmr.*), which are the destination`;
  return undefined;
}

/** The queue `template` names for `agentId`. Pure. */
export function sourceQueueName(template: string, agentId: string): string {
  return template.replace(ID_PLACEHOLDER, agentId);
}

/** The agent id a queue name carries under `template`, or undefined when the name does not fit it or the id is no agent id. */
export function agentIdOf(template: string, queueName: string): string | undefined {
  const [prefix = '', suffix = ''] = template.split(ID_PLACEHOLDER);
  if (!queueName.startsWith(prefix) || !queueName.endsWith(suffix) || queueName.length <= prefix.length + suffix.length) return undefined;
  const id = queueName.slice(prefix.length, queueName.length - suffix.length);
  // agent ids hold no dots, so `{id}` never matches `x.dlq` or `dmr.agent.x`
  return isAgentId(id) ? id : undefined;
}

/** Source and destination queues of `agentId`. */
export function queuePair(agentId: string, templates: { readonly queue: string; readonly deadLetters: string }): QueuePair {
  return {
    agentId,
    source: sourceQueueName(templates.queue, agentId),
    sourceDeadLetters: sourceQueueName(templates.deadLetters, agentId),
    inbox: agentQueueName(agentId),
    deadLetters: agentDeadLetterQueueName(agentId),
  };
}

/** The agent ids any of `queueNames` carries under either template, sorted and without repeats. */
export function discoverAgentIds(
  queueNames: readonly string[],
  templates: { readonly queue: string; readonly deadLetters: string },
): string[] {
  const ids = new Set<string>();
  for (const name of queueNames) {
    const id = agentIdOf(templates.queue, name) ?? agentIdOf(templates.deadLetters, name);
    if (id !== undefined) ids.add(id);
  }
  return [...ids].sort();
}
