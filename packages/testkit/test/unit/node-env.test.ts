import { isAbsolute, relative } from 'node:path';
import { buildNodeEnv, nodeLayout, renderEnabledPlugins, renderRabbitConf } from '@dmr/testkit';
import { describe, expect, it } from 'vitest';

const BASE_DIR = '/tmp/dmrtest-unit';
const PORTS = { amqp: 41001, management: 41002, dist: 41003 };
const NODE_NAME = 'dmrtest-abc@localhost';

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

describe('buildNodeEnv', () => {
  const env = buildNodeEnv({ layout: nodeLayout(BASE_DIR), nodeName: NODE_NAME, ports: PORTS, path: '/usr/bin:/bin' });
  const pathVars = Object.entries(env).filter(([name, value]) => name.startsWith('RABBITMQ_') && value.startsWith('/'));

  it('sets every RabbitMQ path explicitly, since RABBITMQ_BASE does nothing on Linux', () => {
    expect(pathVars.map(([name]) => name).sort()).toEqual([
      'RABBITMQ_ADVANCED_CONFIG_FILE',
      'RABBITMQ_CONFIG_FILE',
      'RABBITMQ_CONFIG_FILES',
      'RABBITMQ_CONF_ENV_FILE',
      'RABBITMQ_ENABLED_PLUGINS_FILE',
      'RABBITMQ_LOG_BASE',
      'RABBITMQ_MNESIA_BASE',
      'RABBITMQ_PID_FILE',
    ]);
    expect(env).not.toHaveProperty('RABBITMQ_BASE');
  });

  it('points every RABBITMQ_* path inside the base dir', () => {
    for (const [name, value] of pathVars) expect(isInside(BASE_DIR, value), `${name}=${value}`).toBe(true);
  });

  it('points nothing at /etc/rabbitmq', () => {
    for (const [name, value] of Object.entries(env)) expect(value, name).not.toContain('/etc/rabbitmq');
  });

  it('gives server and CLI the cookie in the base dir and keeps Erlang distribution on loopback', () => {
    expect(env.HOME).toBe(BASE_DIR);
    expect(env.ERL_EPMD_ADDRESS).toBe('127.0.0.1');
    expect(env.RABBITMQ_NODE_IP_ADDRESS).toBe('127.0.0.1');
    expect(env.RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS).toBe('-kernel inet_dist_use_interface {127,0,0,1}');
    expect(env.RABBITMQ_CTL_ERL_ARGS).toBe('-kernel inet_dist_use_interface {127,0,0,1}');
    expect(isInside(BASE_DIR, env.ERL_CRASH_DUMP ?? '')).toBe(true);
  });

  it('sets the node name and ports', () => {
    expect(env).toMatchObject({
      RABBITMQ_NODENAME: NODE_NAME,
      RABBITMQ_NODE_PORT: '41001',
      RABBITMQ_DIST_PORT: '41003',
      PATH: '/usr/bin:/bin',
    });
  });

  it('passes on no variable it did not decide', () => {
    const keys = Object.keys(env).filter((name) => !name.startsWith('RABBITMQ_'));
    expect(keys.sort()).toEqual(['ERL_CRASH_DUMP', 'ERL_EPMD_ADDRESS', 'HOME', 'PATH']);
  });
});

describe('renderRabbitConf', () => {
  const input = { ports: PORTS, user: 'dmrtest', password: 'a1b2c3', memoryHighWatermark: '1GiB', management: true };

  it('binds AMQP and management to loopback on the chosen ports and caps memory', () => {
    const conf = renderRabbitConf(input);
    expect(conf).toContain('listeners.tcp.default = 127.0.0.1:41001');
    expect(conf).toContain('management.tcp.port = 41002');
    expect(conf).toContain('management.tcp.ip = 127.0.0.1');
    expect(conf).toContain('default_user = dmrtest');
    expect(conf).toContain('default_pass = a1b2c3');
    expect(conf).toContain('vm_memory_high_watermark.absolute = 1GiB');
  });

  it('sets channel_max only when asked, and refuses values RabbitMQ would not take', () => {
    expect(renderRabbitConf(input)).not.toContain('channel_max');
    expect(renderRabbitConf({ ...input, channelMax: 3 })).toContain('channel_max = 3');
    expect(() => renderRabbitConf({ ...input, channelMax: 0 })).toThrow(/channelMax must be an integer 1–65535/);
    expect(() => renderRabbitConf({ ...input, channelMax: 70_000 })).toThrow(/channelMax/);
  });

  it('leaves management keys out when the plugin is off (RabbitMQ rejects them as unknown)', () => {
    expect(renderRabbitConf({ ...input, management: false })).not.toContain('management.');
  });

  it('binds the rabbitmq_prometheus listener to loopback on its own port only when asked', () => {
    expect(renderRabbitConf(input)).not.toContain('prometheus.');
    const conf = renderRabbitConf({ ...input, ports: { ...PORTS, prometheus: 41004 } });
    expect(conf).toContain('prometheus.tcp.port = 41004');
    expect(conf).toContain('prometheus.tcp.ip = 127.0.0.1');
  });

  it('refuses values that could inject extra settings', () => {
    expect(() => renderRabbitConf({ ...input, password: 'x\nloopback_users = none' })).toThrow(/password/);
    expect(() => renderRabbitConf({ ...input, memoryHighWatermark: '1GiB\nfoo = 1' })).toThrow(/memoryHighWatermark/);
  });
});

describe('renderEnabledPlugins', () => {
  it('enables only management, or nothing', () => {
    expect(renderEnabledPlugins(true)).toBe('[rabbitmq_management].\n');
    expect(renderEnabledPlugins(false)).toBe('[].\n');
  });

  it('adds rabbitmq_prometheus when asked', () => {
    expect(renderEnabledPlugins(true, false, true)).toBe('[rabbitmq_management,rabbitmq_prometheus].\n');
    expect(renderEnabledPlugins(false, true, true)).toBe('[rabbitmq_auth_mechanism_ssl,rabbitmq_prometheus].\n');
  });
});
