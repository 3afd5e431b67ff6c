import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script shared with the generator, without type declarations
import { renderDeployFiles } from '../../../../scripts/rabbitmq-deploy-files.mjs';

describe('deploy/rabbitmq', () => {
  it('matches what the code expects (regenerate with node scripts/generate-rabbitmq-deploy.mjs)', () => {
    for (const [name, text] of Object.entries(renderDeployFiles() as Record<string, string>)) {
      expect(readFileSync(new URL(`../../../../deploy/rabbitmq/${name}`, import.meta.url), 'utf8'), name).toBe(text);
    }
  });

  it('gives the relay user dmr. resources only and no password', () => {
    const definitions = JSON.parse(readFileSync(new URL('../../../../deploy/rabbitmq/definitions.json', import.meta.url), 'utf8'));
    expect(definitions.users).toEqual([expect.objectContaining({ name: 'dmr-relay', password_hash: '' })]);
    expect(definitions.permissions[0]).toMatchObject({ configure: '^dmr\\.', write: '^dmr\\.', read: '^dmr\\.' });
  });
});
