import cluster from 'node:cluster';
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import pino from 'pino';
import {
  DEFAULT_RATE_LIMIT,
  authorityBackend,
  createScepServer,
  offerMetricsToPrimary,
  workerAdminSessions,
  workerClusterMetrics,
} from '@scepkit/server';
import type { ScepEndpointOptions } from '@scepkit/server';
import { loadConfig } from '../config/load-config.js';
import type { Config } from '../config/schema.js';
import { dataDirLayout } from '../setup/data-dir.js';
import { initDataDir } from '../setup/init.js';
import { openRuntime } from '../setup/runtime.js';
import { adminConsoleOptions } from '../setup/admin-console.js';
import { formatDoctor, runDoctor, type DoctorReport } from '../intune/doctor.js';
import { startIntuneWorkers } from '../intune/workers.js';
import { tlsMaterial } from '../setup/tls.js';
import { runCluster, runWorker, workerCount } from './cluster-command.js';

export interface ServeOptions {
  /** Create the data directory on first run (what `npm start` does). */
  init?: boolean;
  /** Write the banner here (default stdout). */
  out?: NodeJS.WritableStream;
  /** Environment (secrets: SCEPKIT_*); default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * This process is worker `index` of a cluster of `workers` (`serve --workers`): no `--init`, console sessions
   * and metrics shared through the primary, a `1/workers` share of the rate limit, the background work (CRL
   * refresh, Intune outbox and revocation polling) on worker 0 only, and the banner returned instead of written.
   */
  cluster?: { index: number; workers: number };
}

/** Starts the SCEP service from a loaded config; resolves when it listens. */
export async function serve(config: Config, o: ServeOptions = {}) {
  const out = o.out ?? process.stdout;
  const share = o.cluster?.workers ?? 1;
  const background = (o.cluster?.index ?? 0) === 0;
  if (o.init && !o.cluster) {
    const r = await initDataDir(config);
    if (r.created) {
      out.write(`created a new CA in ${config.dataDir}\n`);
      for (const n of r.notes) out.write(`note: ${n}\n`);
    }
  }
  const logger = pino({ level: config.log.level, base: undefined });
  const caLogger = {
    warn: (message: string, fields?: Record<string, unknown>) => logger.warn(fields ?? {}, message),
  };
  const rt = await openRuntime(config, o.env ?? process.env, {
    logger: caLogger,
    intuneLogger: logger.child({ component: 'intune' }),
  });
  const tls = config.server.tls.enabled ? await tlsMaterial(config, rt) : undefined;
  const backend = authorityBackend({ authority: rt.authority, crl: rt.crl, ocsp: rt.ocsp, store: rt.store });
  const endpoints: ScepEndpointOptions[] = [...rt.endpoints].map(([name, e]) => ({
    path: e.path,
    name,
    backend,
    pki: rt.pki,
    ...(e.capabilities ? { capabilities: e.capabilities } : {}),
  }));
  const adminOptions = await adminConsoleOptions(rt).catch(async (err: unknown) => {
    await rt.close();
    throw err;
  });
  const admin =
    adminOptions && o.cluster ? { ...adminOptions, sessions: workerAdminSessions() } : adminOptions;
  const server = createScepServer({
    endpoints,
    ...(admin ? { admin } : {}),
    backend,
    logger,
    trustProxy: config.server.trustProxy,
    // Connections are spread evenly over the workers: each allows its share, so together they allow the limit.
    rateLimit: {
      perSecond: config.server.rateLimitPerMinute / 60 / share,
      burst: Math.ceil(DEFAULT_RATE_LIMIT.burst / share),
    },
    ...(o.cluster ? { metricsText: workerClusterMetrics } : {}),
    ...(tls ? { tls } : {}),
  });
  if (o.cluster) offerMetricsToPrimary(server.metrics);
  // AIA caIssuers target (RFC 5280 §4.2.2.1): the issuing CA certificate, DER.
  const caDer = Buffer.from(rt.ca.certificateDer);
  server.app.get('/ca.cer', async (_req, reply) =>
    reply
      .header('content-type', 'application/pkix-cert')
      .header('cache-control', 'max-age=86400')
      .send(caDer),
  );
  const stopCrl = background
    ? rt.crl.schedule(60_000, (err) => logger.error({ err }, 'CRL refresh failed'))
    : () => {};
  await rt.crl.current();
  const url = await server.listen({ host: config.server.host, port: config.server.port });
  const workers = background ? startIntuneWorkers(rt, caLogger) : undefined;
  // Intune doctor at start-up: non-fatal, published on /healthz; the server already answers meanwhile.
  let doctor: Promise<DoctorReport | undefined> = Promise.resolve(undefined);
  if (rt.intune && config.intune?.doctorAtStartup) {
    const { client, validator } = rt.intune;
    doctor = runDoctor(client, validator).then(
      (report) => {
        server.setDoctorResult(report);
        const log = report.ok ? logger.info.bind(logger) : logger.warn.bind(logger);
        log({ op: 'doctor', ok: report.ok }, formatDoctor(report));
        return report;
      },
      (err: unknown) => {
        logger.error({ err }, 'Intune doctor failed');
        return undefined;
      },
    );
  }
  const fp = createHash('sha256').update(rt.ca.certificateDer).digest('hex');
  const l = dataDirLayout(config.dataDir);
  const first = [...rt.endpoints.values()][0]!;
  const banner = [
    `scepkit listening on ${url}`,
    ...[...rt.endpoints.values()].map((e) => `  SCEP URL: ${url}${e.path}  (challenge: ${e.challenge.type})`),
    `  CA certificate: ${l.caCert}`,
    `  CA SHA-256 fingerprint: ${fp}`,
    `  CRL: ${url}/crl   OCSP: ${url}/ocsp   health: ${url}/healthz   metrics: ${url}/metrics`,
    ...(admin ? [`  admin console: ${url}/admin`] : []),
    `  data: ${config.dataDir} (${config.store.type})`,
    'enroll a test client:',
    `  npx scepkit enroll -u ${url}${first.path} --ca-fingerprint ${fp} ` +
      (first.challenge.type === 'static' ? `--challenge-file ${l.staticChallenge}` : ''),
    '',
  ].join('\n');
  if (!o.cluster) out.write(banner);
  const close = async () => {
    stopCrl();
    await workers?.stop();
    await server.close();
    await rt.close();
  };
  return { url, server, runtime: rt, intuneWorkers: workers, doctor, banner, close };
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the SCEP service (SCEP, CRL, OCSP, health, metrics)')
    .option('--init', 'create the CA and data directory first if there is none')
    .option(
      '--workers <n>',
      'processes serving the port, e.g. one per core (default: server.workers, 1)',
      workerCount,
    )
    .action(async (o: { init?: boolean; workers?: number }) => {
      const { config } = await loadConfig(program.opts()['config']);
      if (cluster.isWorker) return runWorker(config);
      const workers = o.workers ?? config.server.workers;
      if (workers > 1) return runCluster(config, { init: Boolean(o.init), workers });
      const s = await serve(config, { init: Boolean(o.init) });
      const stop = () => {
        s.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
