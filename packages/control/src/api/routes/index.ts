import type { RouteGroup } from '../route-context.js';
import { agentRoutes } from './agents.js';
import { centOpsRoutes } from './centops.js';
import { certificateRoutes } from './certificates.js';
import { changeLogRoutes } from './change-log.js';
import { openApiRoutes } from './openapi.js';
import { opsRoutes } from './ops.js';
import { policyRoutes } from './policies.js';
import { policyBundleRoutes } from './policy-bundle.js';
import { registryTransferRoutes } from './registry-transfer.js';
import { serverRoutes } from './servers.js';

/**
 * Every route group of the admin API, one plugin file each, registered in this order. A new group (the certificate
 * routes: enrollment, renewal, revocation, CRL) is one file in this folder and one entry here; its routes say who may
 * call them in `config.access` (domain/roles.ts) and the caller guard does the rest.
 */
export const ROUTE_GROUPS: readonly RouteGroup[] = [
  opsRoutes,
  openApiRoutes,
  centOpsRoutes,
  agentRoutes,
  serverRoutes,
  policyBundleRoutes,
  policyRoutes,
  changeLogRoutes,
  registryTransferRoutes,
  certificateRoutes,
];
