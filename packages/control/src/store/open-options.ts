// How a store is opened: the URL format and the options, apart from the adapter so the API can name them.

import type { Logger } from '@dmr/shared';

/** The env var the service reads the store URL from. */
export const CONTROL_DATABASE_URL_ENV = 'DMR_CONTROL_DATABASE_URL';

/** The store URL when {@link CONTROL_DATABASE_URL_ENV} is unset: one SQLite file in the working directory. */
export const DEFAULT_CONTROL_DATABASE_URL = 'sqlite:./dmr-control.db';

/** Options of `openControlStore`. */
export interface OpenControlStoreOptions {
  /** The service's logger; the store logs through `log.child({component: 'control-store'})`, never record content. */
  readonly log: Logger;
  /** The clock for every timestamp the store writes; default `() => new Date()`. Tests pass a fixed one. */
  readonly now?: () => Date;
}
