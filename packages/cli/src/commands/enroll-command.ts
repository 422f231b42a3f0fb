import { createPrivateKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { enroll } from '../client/enroll.js';
import { CliError } from '../errors.js';
import { fromPemAll, toPem } from '../pem.js';

const collect = (v: string, prev: string[]) => [...prev, v];

export function registerEnroll(program: Command): void {
  program
    .command('enroll')
    .description(
      'enroll for a certificate over SCEP (GetCACaps, GetCACert, key + CSR, PKCSReq or RenewalReq)',
    )
    .requiredOption('-u, --url <url>', 'SCEP URL, e.g. http://127.0.0.1:8080/scep')
    .option('-s, --subject <dn>', 'subject of the certificate', 'CN=scepkit-client')
    .option('--dns <name>', 'DNS subject alternative name (repeatable)', collect, [])
    .option('--email <address>', 'rfc822 subject alternative name (repeatable)', collect, [])
    .option('--upn <upn>', 'UPN subject alternative name (repeatable)', collect, [])
    .option('--uri <uri>', 'URI subject alternative name (repeatable)', collect, [])
    .option('--key-size <bits>', 'RSA key size', (v) => Number.parseInt(v, 10), 2048)
    .option(
      '--challenge-file <file>',
      'file holding the challenge password (or set SCEPKIT_CHALLENGE; never on the command line)',
    )
    .option('--ca-fingerprint <hex>', 'SHA-256 fingerprint one GetCACert certificate must have')
    .option('--tls-ca <file>', 'PEM file of CA certificates to trust for HTTPS')
    .option('--renew-cert <file>', 'renew: the current certificate (PEM)')
    .option('--renew-key <file>', 'renew: the current private key (PEM)')
    .option('--get', 'send PKIOperation by GET even when POST is offered')
    .option('--poll-interval <seconds>', 'seconds between polls while PENDING', (v) => Number(v), 5)
    .option('--max-polls <n>', 'polls before giving up', (v) => Number.parseInt(v, 10), 60)
    .option(
      '--out-key <file>',
      'where to write the new private key (PEM, mode 0600)',
      'scepkit-client.key.pem',
    )
    .option('--out-cert <file>', 'where to write the certificate (PEM)', 'scepkit-client.cert.pem')
    .option('--out-chain <file>', 'where to write the CA chain (PEM)', 'scepkit-client.chain.pem')
    .action(async (o) => {
      const challenge = o.challengeFile
        ? (await readFile(o.challengeFile, 'utf8')).trim()
        : (process.env['SCEPKIT_CHALLENGE'] ?? undefined);
      let renew;
      if (o.renewCert || o.renewKey) {
        if (!o.renewCert || !o.renewKey)
          throw new CliError('usage', '--renew-cert and --renew-key go together');
        const certs = fromPemAll(await readFile(o.renewCert, 'utf8'), 'CERTIFICATE');
        if (!certs[0]) throw new CliError('usage', `${o.renewCert} holds no certificate`);
        renew = { certificate: certs[0], key: createPrivateKey(await readFile(o.renewKey)) };
      }
      const r = await enroll({
        url: o.url,
        subject: o.subject,
        dns: o.dns,
        emails: o.email,
        upns: o.upn,
        uris: o.uri,
        keySize: o.keySize,
        ...(challenge ? { challenge } : {}),
        ...(o.caFingerprint ? { caFingerprint: o.caFingerprint } : {}),
        ...(o.tlsCa ? { tlsCa: await readFile(o.tlsCa, 'utf8') } : {}),
        ...(renew ? { renew } : {}),
        forceGet: Boolean(o.get),
        pollIntervalMs: o.pollInterval * 1000,
        maxPolls: o.maxPolls,
        progress: (line) => process.stderr.write(`  ${line}\n`),
      });
      await writeFile(o.outKey, r.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, {
        mode: 0o600,
      });
      await writeFile(o.outCert, toPem('CERTIFICATE', r.certificate));
      await writeFile(o.outChain, r.chain.map((c) => toPem('CERTIFICATE', c)).join(''));
      process.stdout.write(`certificate: ${o.outCert}\nkey: ${o.outKey}\nchain: ${o.outChain}\n`);
    });
}
