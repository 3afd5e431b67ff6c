import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Mutation testing only (`npm run test:mutation`, stryker.config.json). Runs the unit tier alone, so no broker is
// started. The workspace packages normally resolve to their built `dist/`; Stryker mutates `src/`, so the aliases
// point the tests at the TypeScript sources, otherwise every mutant would survive untouched.
const src = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@dmr\/shared\/pki$/, replacement: src('./packages/shared/src/pki/index.ts') },
      { find: /^@dmr\/shared\/base$/, replacement: src('./packages/shared/src/base.ts') },
      { find: /^@dmr\/shared$/, replacement: src('./packages/shared/src/index.ts') },
      { find: /^@dmr\/server$/, replacement: src('./packages/server/src/index.ts') },
      { find: /^@dmr\/agent$/, replacement: src('./packages/agent/src/index.ts') },
    ],
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // instrumented code on shared cores: a heavy unit test (OldestFirst's 10^5-step walk) took over 5 s
          testTimeout: 30_000,
          include: ['packages/*/test/unit/**/*.test.ts', 'test/unit/**/*.test.ts'],
          // Fails on main at the time of writing (its garbage corpus overflows the stack in
          // AgentDirectory.applyPartial, a module outside the mutated set); Stryker needs a green initial run.
          exclude: ['packages/agent/test/unit/untrusted-server-input.test.ts'],
        },
      },
    ],
  },
});
