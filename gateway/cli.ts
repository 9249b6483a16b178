#!/usr/bin/env node
/**
 * attendance-gateway — the classroom beacon daemon and its installer tools.
 *
 *   attendance-gateway run    [--config FILE] [--radio bleno|virtual]
 *   attendance-gateway status [--config FILE] [--json]
 *   attendance-gateway scan   [--radio bleno|virtual] [--hci N] [--seconds S] [--company-id N] [--json]
 *   attendance-gateway provision --cloud URL --code CODE [--config FILE]
 */
import { parseArgs } from 'node:util';
import { scan } from './cli/scan.js';
import { ProvisionError, provision } from './provision.js';
import { EXIT_CONFIG } from '../shared/exit-codes.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { runGateway } from './main.js';
import { formatStatus, readStatus } from './status-report.js';
import { StoreOpenError } from './store/errors.js';
import { openStore } from './store/store.js';
import { DEFAULT_COMPANY_ID } from '../shared/advertisement.js';

const USAGE = `usage:
  attendance-gateway run    [--config FILE] [--radio bleno|virtual]
  attendance-gateway status [--config FILE] [--json]
  attendance-gateway scan   [--radio bleno|virtual] [--hci N] [--seconds S] [--company-id N] [--json]
  attendance-gateway provision --cloud URL --code CODE [--config FILE]

The config file defaults to /etc/attendance/gateway.json; ATTENDANCE_GATEWAY_<FIELD> overrides
any field. See docs/gateway.md.`;

type RadioKind = 'bleno' | 'virtual';

function radioOf(value: string | undefined): RadioKind {
  const radio = value ?? 'bleno';
  if (radio !== 'bleno' && radio !== 'virtual') throw new UsageError(`--radio must be bleno or virtual, got ${radio}`);
  return radio;
}

class UsageError extends Error {}

function intOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^(\d+|0x[0-9a-fA-F]+)$/.test(value)) throw new UsageError(`--${name} must be an integer, got ${value}`);
  return Number(value);
}

async function status(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, json: { type: 'boolean' } } });
  const config = loadConfig({ ...(values.config !== undefined && { path: values.config }) });
  const store = openStore(config.dbPath, config.gatewayId, config.mqtt.topicPrefix, { readonly: true });
  try {
    const report = readStatus(store);
    console.log(values.json ? JSON.stringify(report, null, 2) : formatStatus(report));
  } finally {
    store.close();
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run': {
        const { values } = parseArgs({ args: rest, options: { config: { type: 'string' }, radio: { type: 'string' } } });
        return await runGateway({ ...(values.config !== undefined && { configPath: values.config }), radio: radioOf(values.radio) });
      }
      case 'status':
        return await status(rest);
      case 'scan': {
        const { values } = parseArgs({
          args: rest,
          options: { radio: { type: 'string' }, hci: { type: 'string' }, seconds: { type: 'string' }, 'company-id': { type: 'string' }, json: { type: 'boolean' } },
        });
        return await scan({
          radio: radioOf(values.radio),
          ...(values.hci !== undefined && { hciDeviceId: intOption('hci', values.hci, 0) }),
          seconds: intOption('seconds', values.seconds, 10),
          companyId: intOption('company-id', values['company-id'], DEFAULT_COMPANY_ID),
          json: values.json ?? false,
          log: createLogger('warn', process.stderr),
        });
      }
      case 'provision': {
        const { values } = parseArgs({ args: rest, options: { cloud: { type: 'string' }, code: { type: 'string' }, config: { type: 'string' } } });
        if (!values.cloud || !values.code) throw new UsageError('provision needs --cloud URL and --code CODE');
        try {
          const r = await provision({ cloudUrl: values.cloud, code: values.code, ...(values.config !== undefined && { configPath: values.config }) });
          console.log(`provisioned gateway ${r.gatewayId} for room code ${r.roomCode}; broker ${r.mqttUrl}; config written to ${r.configPath} (mode 0600)`);
          return 0;
        } catch (err) {
          if (!(err instanceof ProvisionError)) throw err;
          console.error(`attendance-gateway provision: ${err.message}`);
          return 1;
        }
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return command === undefined ? 64 : 0;
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(err as Error).message}\n\n${USAGE}`);
      return 64;
    }
    if (err instanceof ConfigError || err instanceof StoreOpenError) {
      console.error(err.message);
      return EXIT_CONFIG;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
