import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCEPKIT } from './tools.js';

export interface RunningScepkit {
  url: string;
  dataDir: string;
  caCertPem: string;
  staticChallengeFile: string;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts `scepkit serve --init` as a separate process on 127.0.0.1, port chosen by the OS. */
export async function startScepkit(
  dataDir: string,
  config: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<RunningScepkit> {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'scepkit.json'), JSON.stringify({ dataDir: '.', ...config }, null, 2));
  const child: ChildProcess = spawn(
    process.execPath,
    [SCEPKIT, '-c', join(dataDir, 'scepkit.json'), 'serve', '--init'],
    {
      env: {
        ...process.env,
        SCEPKIT_PORT: '0',
        SCEPKIT_HOST: '127.0.0.1',
        SCEPKIT_CA_KEY_TYPE: 'rsa-2048',
        SCEPKIT_LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`scepkit did not start:\n${out}`)), 60_000);
    const check = () => {
      const m = /scepkit listening on (\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`scepkit exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    dataDir,
    caCertPem: readFileSync(join(dataDir, 'ca', 'ca.cert.pem'), 'utf8'),
    staticChallengeFile: join(dataDir, 'secrets', 'static-challenge'),
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
