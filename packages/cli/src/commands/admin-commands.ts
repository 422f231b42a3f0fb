import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { REVOCATION_REASONS, crlToPem, parseCsr } from '@scepkit/ca';
import type {
  CertificateRecord,
  CertificateQuery,
  RevocationReasonName,
  TransactionState,
} from '@scepkit/ca';
import { loadConfig } from '../config/load-config.js';
import { CliError } from '../errors.js';
import { toPem } from '../pem.js';
import { openRuntime } from '../setup/runtime.js';
import type { Runtime } from '../setup/runtime.js';

async function withRuntime<T>(program: Command, f: (rt: Runtime) => Promise<T>): Promise<T> {
  const { config } = await loadConfig(program.opts()['config']);
  const rt = await openRuntime(config, process.env, { offline: true });
  try {
    return await f(rt);
  } finally {
    await rt.close();
  }
}

function line(c: CertificateRecord): string {
  const status = c.status === 'revoked' ? `revoked(${c.revocationReason ?? 0})` : 'valid';
  return `${c.serial}  ${status.padEnd(11)}  ${c.notAfter.toISOString().slice(0, 10)}  ${c.subject}  ${c.sans.join(',')}`;
}

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);

export function registerAdmin(program: Command): void {
  const certs = program.command('certs').description('list, show and revoke issued certificates');
  certs
    .command('list')
    .description('issued certificates, newest first')
    .option('--status <status>', 'valid or revoked')
    .option('--subject <text>', 'subject contains')
    .option('--san <text>', 'a subject alternative name contains')
    .option('--serial <prefix>', 'serial starts with (hex)')
    .option('--expiring-days <n>', 'expires within n days', (v) => Number(v))
    .option('--limit <n>', 'at most n (max 1000)', (v) => Number.parseInt(v, 10), 100)
    .option('--json', 'JSON lines')
    .action(async (o) => {
      const q: CertificateQuery = { limit: o.limit };
      if (o.status) {
        if (o.status !== 'valid' && o.status !== 'revoked')
          throw new CliError('usage', '--status: valid or revoked');
        q.status = o.status;
      }
      if (o.subject) q.subject = o.subject;
      if (o.san) q.san = o.san;
      if (o.serial) q.serialPrefix = String(o.serial).toLowerCase();
      if (o.expiringDays !== undefined) q.expiringBefore = new Date(Date.now() + o.expiringDays * 86_400_000);
      await withRuntime(program, async (rt) => {
        const rows = await rt.store.searchCertificates(q);
        for (const c of rows) {
          if (o.json) out(JSON.stringify({ ...c, der: undefined }));
          else out(line(c));
        }
        if (!o.json) out(`${rows.length} certificate(s)`);
      });
    });
  certs
    .command('show <serial>')
    .description('one certificate: fields, status and PEM')
    .action(async (serial: string) => {
      await withRuntime(program, async (rt) => {
        const c = await rt.store.getCertificate(serial.toLowerCase().replace(/^0+/, '') || '0');
        if (!c) throw new CliError('usage', `no certificate with serial ${serial}`);
        const x = new X509Certificate(c.der);
        out(
          [
            `serial:      ${c.serial}`,
            `subject:     ${c.subject}`,
            `SANs:        ${c.sans.join(', ') || '-'}`,
            `issuer:      ${x.issuer.replace(/\n/g, ', ')}`,
            `valid:       ${c.notBefore.toISOString()} .. ${c.notAfter.toISOString()}`,
            `status:      ${c.status}${c.revokedAt ? ` at ${c.revokedAt.toISOString()} (reason ${c.revocationReason})` : ''}`,
            `profile:     ${c.profile}`,
            `transaction: ${c.transactionId ?? '-'}`,
            `SHA-1:       ${c.thumbprint}`,
            toPem('CERTIFICATE', c.der),
          ].join('\n'),
        );
      });
    });
  certs
    .command('revoke <serial>')
    .description('revoke a certificate; a fresh CRL is published at once')
    .option('--reason <reason>', `one of ${Object.keys(REVOCATION_REASONS).join(', ')}`, 'unspecified')
    .action(async (serial: string, o: { reason: string }) => {
      const reason = REVOCATION_REASONS[o.reason as RevocationReasonName];
      if (reason === undefined) throw new CliError('usage', `unknown reason ${o.reason}`);
      await withRuntime(program, async (rt) => {
        const r = await rt.authority.revoke(serial.toLowerCase().replace(/^0+/, '') || '0', reason, 'cli');
        if (r === 'not-found') throw new CliError('usage', `no certificate with serial ${serial}`);
        out(r === 'revoked' ? `revoked ${serial} (${o.reason})` : `${serial} was already revoked`);
      });
    });

  const requests = program
    .command('requests')
    .description('enrollment transactions; approve or reject those pending manual approval');
  requests
    .command('list')
    .description('recent transactions, newest first')
    .option('--state <state>', 'pending, approved, issued, failed or rejected')
    .option('--limit <n>', 'at most n', (v) => Number.parseInt(v, 10), 50)
    .action(async (o: { state?: string; limit: number }) => {
      await withRuntime(program, async (rt) => {
        const rows = await rt.store.listTransactions({
          ...(o.state ? { state: o.state as TransactionState } : {}),
          limit: o.limit,
        });
        for (const t of rows) {
          let subject = '';
          if (t.csr) {
            try {
              subject = parseCsr(t.csr).subjectText;
            } catch {
              subject = '(unreadable CSR)';
            }
          }
          out(
            `${t.profile}  ${t.transactionId}  ${t.state.padEnd(8)}  ${t.updatedAt.toISOString()}  ` +
              `${t.serial ?? ''}${t.failInfo ? ` ${t.failInfo}: ${t.reason ?? ''}` : ''}${subject ? `  ${subject}` : ''}`,
          );
        }
        out(`${rows.length} transaction(s)`);
      });
    });
  for (const verb of ['approve', 'reject'] as const) {
    requests
      .command(`${verb} <endpoint> <transactionId>`)
      .description(
        verb === 'approve'
          ? 'approve a pending request: the certificate is issued when the client polls (CertPoll)'
          : 'reject a pending request: the client gets FAILURE on its next poll',
      )
      .option('--reason <text>', 'why (reject)')
      .action(async (endpoint: string, transactionId: string, o: { reason?: string }) => {
        await withRuntime(program, async (rt) => {
          const found = [...rt.endpoints].find(([name, e]) => e.path === endpoint || name === endpoint);
          if (!found) throw new CliError('usage', `no endpoint ${endpoint}`);
          const key = { transactionId, profile: found[0] };
          const t =
            verb === 'approve'
              ? await rt.authority.approve(key, 'cli')
              : await rt.authority.reject(key, 'cli', o.reason);
          out(`${transactionId}: ${t.state}`);
        });
      });
  }

  program
    .command('crl')
    .description('print or write the current CRL (a fresh one is signed when it is near its nextUpdate)')
    .option('--out <file>', 'write it to a file instead of standard output')
    .option('--der', 'DER instead of PEM')
    .option('--publish', 'sign a new CRL now')
    .action(async (o: { out?: string; der?: boolean; publish?: boolean }) => {
      await withRuntime(program, async (rt) => {
        const crl = o.publish ? await rt.crl.publish() : await rt.crl.current();
        const body = o.der ? Buffer.from(crl.der) : crlToPem(crl.der);
        if (o.out) {
          await writeFile(o.out, body);
          out(`CRL #${crl.crlNumber} written to ${o.out} (next update ${crl.nextUpdate.toISOString()})`);
        } else process.stdout.write(body);
      });
    });

  const challenge = program.command('challenge').description('one-time challenge passwords');
  challenge
    .command('new')
    .description('mint one-time challenge passwords for endpoints with the "otp" challenge')
    .option('--ttl <minutes>', 'minutes before it expires', (v) => Number(v), 60)
    .option('--count <n>', 'how many', (v) => Number.parseInt(v, 10), 1)
    .option('--endpoint <path>', 'restrict to one endpoint (e.g. /scep)')
    .action(async (o: { ttl: number; count: number; endpoint?: string }) => {
      if (!(o.ttl > 0) || !(o.count >= 1 && o.count <= 1000))
        throw new CliError('usage', 'bad --ttl or --count');
      await withRuntime(program, async (rt) => {
        let profile: string | null = null;
        if (o.endpoint) {
          const found = [...rt.endpoints].find(([, e]) => e.path === o.endpoint);
          if (!found) throw new CliError('usage', `no endpoint ${o.endpoint}`);
          profile = found[0];
        }
        const expiresAt = new Date(Date.now() + o.ttl * 60_000);
        for (let i = 0; i < o.count; i++) {
          const m = await rt.store.mintChallenge({ expiresAt, profile });
          // Shown once to the admin who asked for it; only its hash is stored.
          out(m.password);
        }
        process.stderr.write(`valid until ${expiresAt.toISOString()}, each usable once\n`);
      });
    });
}
