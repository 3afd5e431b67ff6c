// `npm run openapi`: writes packages/agent/openapi.json, the OpenAPI 3.1 description of the agent's HTTP API, from
// the built agent (the same document it serves at GET /v1/openapi.json; packages/agent/test/integration/openapi.test.ts keeps them equal).
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildOpenApiDocument } from '@dmr/agent';

const target = join(resolve(import.meta.dirname, '..'), 'packages/agent/openapi.json');
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
console.log(`wrote ${target}`);
