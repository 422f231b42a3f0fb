import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { resolveConfig, type IntuneClientOptions } from './config.js';
import { IntuneConfigurationError } from './errors.js';
import { IntuneClient } from './intune-client.js';
import { fromProperties } from './properties.js';
import { makeClientCert } from './testdata/certs.js';

const BASE = {
  AAD_APP_ID: 'app-id',
  AAD_APP_KEY: 'app-key',
  TENANT: 'contoso.onmicrosoft.com',
  PROVIDER_NAME_AND_VERSION: 'scepkit/0.1.0',
};

function configError(fn: () => unknown): IntuneConfigurationError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof IntuneConfigurationError, String(err));
    return err;
  }
  return assert.fail('expected an IntuneConfigurationError');
}

describe('fromProperties', () => {
  it('ok/microsoft-names: every alias maps to its option; AAD Graph keys ignored', () => {
    const options = fromProperties({
      ...BASE,
      AUTH_AUTHORITY: 'https://login.microsoftonline.us/',
      INTUNE_APP_ID: 'intune-app',
      INTUNE_RESOURCE_URL: 'https://api.manage.microsoft.us/',
      MSAL_GRAPH_RESOURCE_URL: 'https://graph.microsoft.us/',
      MS_GRAPH_API_VERSION: 'beta',
      ScepRequestValidationFEServiceVersion: '2018-02-21',
      PkiConnectorFEServiceVersion: '5019-05-06',
      GRAPH_RESOURCE_URL: 'https://graph.windows.net/',
      PROXY_HOST: 'proxy.local',
      PROXY_PORT: '3128',
      PROXY_USER: 'u',
      PROXY_PASS: 'p',
    });
    assert.deepEqual(options, {
      clientId: 'app-id',
      clientSecret: 'app-key',
      tenant: 'contoso.onmicrosoft.com',
      providerNameAndVersion: 'scepkit/0.1.0',
      authorityHost: 'https://login.microsoftonline.us/',
      intuneAppId: 'intune-app',
      intuneResourceUrl: 'https://api.manage.microsoft.us/',
      graphResourceUrl: 'https://graph.microsoft.us/',
      graphApiVersion: 'beta',
      scepServiceVersion: '2018-02-21',
      pkiServiceVersion: '5019-05-06',
      proxy: { url: 'http://proxy.local:3128', username: 'u', password: 'p' },
    });
    const config = resolveConfig(options);
    assert.equal(config.intuneScope, 'https://api.manage.microsoft.us//.default');
    assert.equal(config.graphScope, 'https://graph.microsoft.us/.default');
    assert.equal(config.authority, 'https://login.microsoftonline.us/contoso.onmicrosoft.com');
    assert.deepEqual(config.knownAuthorities, ['login.microsoftonline.us']);
  });

  it('ok/defaults: public cloud endpoints and Microsoft service versions', () => {
    const config = resolveConfig(fromProperties(BASE));
    assert.equal(config.authority, 'https://login.microsoftonline.com/contoso.onmicrosoft.com');
    assert.equal(config.intuneScope, 'https://api.manage.microsoft.com//.default');
    assert.equal(config.graphScope, 'https://graph.microsoft.com/.default');
    assert.equal(config.intuneAppId, '0000000a-0000-0000-c000-000000000000');
    assert.equal(config.scepServiceVersion, '2018-02-20');
    assert.equal(config.pkiServiceVersion, '5019-05-05');
    assert.equal(config.graphApiVersion, '1.0');
  });

  for (const key of ['AAD_APP_ID', 'AAD_APP_KEY', 'TENANT', 'PROVIDER_NAME_AND_VERSION'] as const) {
    it(`fail/missing-${key}: the error names the property`, () => {
      const props: Record<string, string> = { ...BASE };
      delete props[key];
      const err = configError(() => fromProperties(props));
      assert.equal(err.key, key);
      assert.match(err.message, new RegExp(key));
    });
  }

  it('ok/certificate-override: AAD_APP_KEY not needed with a clientCertificate', () => {
    const cert = makeClientCert('a');
    const props: Record<string, string> = { ...BASE };
    delete props['AAD_APP_KEY'];
    const clientCertificate = { privateKeyPem: cert.keyPem, certificatePem: cert.certPem };
    const config = resolveConfig(fromProperties(props, { clientCertificate }));
    assert.equal(config.credential.kind, 'certificate');
  });

  it('fail/proxy-properties: port required and in range, password required with user', () => {
    assert.equal(configError(() => fromProperties({ ...BASE, PROXY_HOST: 'p' })).key, 'PROXY_PORT');
    assert.equal(
      configError(() => fromProperties({ ...BASE, PROXY_HOST: 'p', PROXY_PORT: '70000' })).key,
      'PROXY_PORT',
    );
    assert.equal(
      configError(() => fromProperties({ ...BASE, PROXY_HOST: 'p', PROXY_PORT: '8080', PROXY_USER: 'u' }))
        .key,
      'PROXY_PASS',
    );
  });
});

describe('IntuneClient options', () => {
  const ok: IntuneClientOptions = {
    tenant: 't',
    clientId: 'c',
    clientSecret: 's',
    providerNameAndVersion: 'p/1',
  };
  const cases: {
    name: string;
    options: Partial<IntuneClientOptions> & Record<string, unknown>;
    key: string;
  }[] = [
    { name: 'missing-tenant', options: { tenant: undefined }, key: 'tenant' },
    { name: 'blank-clientId', options: { clientId: '  ' }, key: 'clientId' },
    {
      name: 'missing-provider',
      options: { providerNameAndVersion: undefined },
      key: 'providerNameAndVersion',
    },
    { name: 'no-credential', options: { clientSecret: undefined }, key: 'clientSecret' },
    { name: 'http-authority', options: { authorityHost: 'http://login.example/' }, key: 'authorityHost' },
    { name: 'bad-graph-url', options: { graphResourceUrl: 'not a url' }, key: 'graphResourceUrl' },
    { name: 'bad-timeout', options: { timeoutMs: 0 }, key: 'timeoutMs' },
    { name: 'bad-retry', options: { retry: { attempts: 0 } }, key: 'retry.attempts' },
    { name: 'bad-proxy', options: { proxy: { url: 'socks5://x:1' } }, key: 'proxy.url' },
    {
      name: 'bad-certificate',
      options: { clientSecret: undefined, clientCertificate: { privateKeyPem: 'x', certificatePem: 'y' } },
      key: 'clientCertificate.certificatePem',
    },
  ];
  for (const c of cases) {
    it(`fail/${c.name}: IntuneConfigurationError naming ${c.key}`, () => {
      const err = configError(() => new IntuneClient({ ...ok, ...c.options } as IntuneClientOptions));
      assert.equal(err.key, c.key);
      assert.match(err.message, new RegExp(c.key.replace('.', '\\.')));
    });
  }

  it('ok/encrypted-private-key: passphrase', () => {
    const cert = makeClientCert('a');
    const encrypted = createPrivateKey(cert.keyPem)
      .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' })
      .toString();
    const options = { ...ok, clientSecret: undefined };
    const config = resolveConfig({
      ...options,
      clientCertificate: { privateKeyPem: encrypted, certificatePem: cert.certPem, passphrase: 'pw' },
    });
    assert.equal(config.credential.kind, 'certificate');
    const err = configError(() =>
      resolveConfig({
        ...options,
        clientCertificate: { privateKeyPem: encrypted, certificatePem: cert.certPem, passphrase: 'nope' },
      }),
    );
    assert.equal(err.key, 'clientCertificate.privateKeyPem');
  });

  it('ok/secrets-hidden: inspecting or serializing a client shows no secret, key or proxy password', () => {
    const cert = makeClientCert('a');
    const withSecret = new IntuneClient({
      ...ok,
      clientSecret: 'S3CRET-value',
      proxy: { url: 'http://p:1', username: 'u', password: 'PROXY-PW' },
    });
    const withCert = new IntuneClient({
      ...ok,
      clientSecret: undefined,
      clientCertificate: { privateKeyPem: cert.keyPem, certificatePem: cert.certPem },
    });
    for (const client of [withSecret, withCert]) {
      const text = inspect(client, { depth: Infinity }) + JSON.stringify(client);
      for (const secret of ['S3CRET-value', 'PROXY-PW', 'PRIVATE KEY', cert.keyPem.split('\n')[1] ?? '']) {
        assert.ok(!text.includes(secret), `leaked ${secret}`);
      }
    }
    assert.equal(withSecret.config.credential.kind, 'secret');
    assert.equal(withSecret.config.proxy?.password, 'PROXY-PW');
    void withSecret.close();
    void withCert.close();
  });

  it('fail/certificate-key-mismatch: key of another certificate', () => {
    const a = makeClientCert('a');
    const b = makeClientCert('b');
    const err = configError(
      () =>
        new IntuneClient({
          ...ok,
          clientSecret: undefined,
          clientCertificate: { privateKeyPem: b.keyPem, certificatePem: a.certPem },
        }),
    );
    assert.equal(err.key, 'clientCertificate');
    assert.match(err.message, /does not match/);
  });
});
