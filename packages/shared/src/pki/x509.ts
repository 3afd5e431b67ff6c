/**
 * The one place in `@dmr/shared` that loads @peculiar/x509: its DI container (tsyringe) needs the
 * `reflect-metadata` polyfill before the library is evaluated, and its default crypto provider must be
 * Node's WebCrypto. Every other module imports `x509` from here, so an import sorter cannot break the order.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Node's webcrypto is structurally the Web Crypto API; the cast bridges the DOM-less type world
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
