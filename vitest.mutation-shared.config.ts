import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Targeted mutation runs over packages/shared only (bench/results/mutation.md, runs G1-G3): only shared's unit tests
// (and control's CRL reader test) run, so the result is a lower bound; the full run uses vitest.mutation.config.ts.
const src = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@dmr\/shared\/pki$/, replacement: src('./packages/shared/src/pki/index.ts') },
      { find: /^@dmr\/shared$/, replacement: src('./packages/shared/src/index.ts') },
    ],
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          testTimeout: 30_000,
          include: ['packages/shared/test/unit/**/*.test.ts', 'packages/control/test/unit/crl-read.test.ts'],
        },
      },
    ],
  },
});
