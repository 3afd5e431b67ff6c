// openControlStore: parses the URL and opens the matching engine.

import { DmrError } from '@dmr/shared/base';
import type { ControlStore } from './control-store.js';
import type { OpenControlStoreOptions } from './open-options.js';

/**
 * Opens the store at `url` (`sqlite:<path>` or `postgres://…`), applies pending migrations and returns it.
 * Throws `DMR_CONFIG_INVALID` for a URL of another form and `DMR_CONTROL_STORE_FAILED` when the database
 * cannot be opened or migrated.
 */
export async function openControlStore(url: string, options: OpenControlStoreOptions): Promise<ControlStore> {
  // TODO(#18): the Kysely adapter lands on branch control/store right after this port.
  void options;
  throw new DmrError('DMR_CONTROL_STORE_FAILED', `the control store adapter is not built yet (${url.split(':')[0]})`);
}
