/** What testkit takes from the host environment; everything else is decided in code. */
export interface HostEnv {
  /** `DMR_RABBITMQ_SBIN`: directory holding `rabbitmq-server` and `rabbitmqctl`, when set and non-empty. */
  readonly rabbitSbinOverride: string | undefined;
  /** `PATH`, passed on so the RabbitMQ scripts find `erl`; nothing else of the host env reaches the node. */
  readonly path: string | undefined;
  /** `DMR_POSTGRES_BIN`: directory holding `initdb`, `pg_ctl` and `postgres`, when set and non-empty. */
  readonly postgresBinOverride: string | undefined;
  /** `DMR_PROMETHEUS_BIN`: directory holding `prometheus` and `promtool`, when set and non-empty. */
  readonly prometheusBinOverride: string | undefined;
}

/**
 * Reads the host environment. This is the only `process.env` access in testkit:
 * stray `RABBITMQ_*`, `ERL_*` or `HOME` values of the caller never reach a test
 * node, because the node env is built from scratch (see `buildNodeEnv`).
 */
export function readHostEnv(): HostEnv {
  const override = process.env.DMR_RABBITMQ_SBIN;
  const postgresBin = process.env.DMR_POSTGRES_BIN;
  const prometheusBin = process.env.DMR_PROMETHEUS_BIN;
  return {
    rabbitSbinOverride: override === undefined || override === '' ? undefined : override,
    path: process.env.PATH,
    postgresBinOverride: postgresBin === undefined || postgresBin === '' ? undefined : postgresBin,
    prometheusBinOverride: prometheusBin === undefined || prometheusBin === '' ? undefined : prometheusBin,
  };
}
