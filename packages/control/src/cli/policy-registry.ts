// The registry side of `dmrctl policy`: a CentOps configuration file read as policy parties. Pure apart from reading.
import { DmrError } from '@dmr/shared/base';
import type { PolicyParty } from '@dmr/shared/policy';
import { readDocumentFile } from './document-files.js';

/**
 * Reads a CentOps configuration document (`{response: [{id, institution?, groups?, …}]}`, JSON or YAML) as the
 * parties policy decisions see. Throws DMR_CLI_DOCUMENT_INVALID naming the first bad field.
 */
export async function readRegistryParties(path: string): Promise<PolicyParty[]> {
  const { value } = await readDocumentFile(path);
  return registryParties(value, path);
}

/** The parties of a parsed CentOps configuration document; `origin` names it in refusals. */
export function registryParties(document: unknown, origin: string): PolicyParty[] {
  const refuse = (field: string, problem: string): never => {
    throw new DmrError('DMR_CLI_DOCUMENT_INVALID', `${origin}: ${field} ${problem} (a CentOps configuration document)`);
  };
  const items = (document as { response?: unknown } | null)?.response;
  if (!Array.isArray(items)) return refuse('response', 'must be an array of agents');
  return items.map((item: unknown, index) => {
    const field = `response.${index}`;
    if (typeof item !== 'object' || item === null) return refuse(field, 'must be an object');
    const { id, institution, groups } = item as Record<string, unknown>;
    if (typeof id !== 'string' || id === '') return refuse(`${field}.id`, 'must be a non-empty string');
    if (institution !== undefined && typeof institution !== 'string') return refuse(`${field}.institution`, 'must be a string');
    if (groups !== undefined && !(Array.isArray(groups) && groups.every((group) => typeof group === 'string'))) {
      return refuse(`${field}.groups`, 'must be an array of strings');
    }
    return { id, institution: institution ?? '', groups: (groups as string[] | undefined) ?? [] };
  });
}
