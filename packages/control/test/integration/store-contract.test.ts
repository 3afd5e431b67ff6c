// The ControlStore contract on both engines, for real: SQLite files in a temp dir, and PostgreSQL databases on a
// private cluster this file starts (one cluster per file, one database per test).

import { type PostgresCluster, startPostgres } from '@dmr/testkit';
import { afterAll, beforeAll, describe } from 'vitest';
import { type FreshStore, freshStoreEach, postgresFactory, type StoreFactory, sqliteFactory } from '../helpers/store-fixtures.js';
import { agentContract } from '../helpers/store-suite-agents.js';
import {
  appendOnlyContract,
  openFailureContract,
  postgresOpenFailureContract,
  sqliteOpenFailureContract,
  twoInstanceContract,
} from '../helpers/store-suite-engine.js';
import { certificateContract, policyAndServerContract, tokenContract } from '../helpers/store-suite-records.js';
import { changeLogContract, reopenContract, textContract, transactionContract } from '../helpers/store-suite-transactions.js';

function contract(factory: () => StoreFactory): FreshStore {
  const ctx = freshStoreEach(factory);
  agentContract(ctx);
  certificateContract(ctx);
  tokenContract(ctx);
  policyAndServerContract(ctx);
  transactionContract(ctx);
  changeLogContract(ctx);
  textContract(ctx);
  reopenContract(ctx);
  appendOnlyContract(ctx);
  openFailureContract(ctx);
  return ctx;
}

describe('ControlStore on SQLite', () => {
  let factory: StoreFactory | undefined;
  beforeAll(async () => {
    factory = await sqliteFactory();
  });
  afterAll(async () => {
    await factory?.dispose();
  });
  contract(() => factory as StoreFactory);
  sqliteOpenFailureContract();
});

describe('ControlStore on PostgreSQL', () => {
  let cluster: PostgresCluster | undefined;
  let factory: StoreFactory | undefined;
  beforeAll(async () => {
    cluster = await startPostgres();
    factory = postgresFactory(cluster);
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  twoInstanceContract(contract(() => factory as StoreFactory));
  postgresOpenFailureContract(() => cluster as PostgresCluster);
});
