// Writes deploy/rabbitmq/definitions.json and rabbitmq.conf from the code's own topology contract
// (@dmr/shared), so the deployed policies and permissions cannot drift from what the servers expect.
// Run after `npm run build`: node scripts/generate-rabbitmq-deploy.mjs  (a unit test fails when the files are stale)
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderDeployFiles } from './rabbitmq-deploy-files.mjs';

const outDir = resolve(import.meta.dirname, '../deploy/rabbitmq');
for (const [name, text] of Object.entries(renderDeployFiles())) {
  writeFileSync(join(outDir, name), text);
  console.log(`wrote deploy/rabbitmq/${name}`);
}
