import assert from 'node:assert/strict';
import { createHash, createPublicKey, type JsonWebKey } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { decodeJwt, signJwt, verifyJwtSignature, type JwtAlgorithm } from './jwt.js';
import {
  GRAPH_SCOPE,
  INTUNE_SCOPE,
  T0,
  makeClientCertificate,
  makeFixture,
  type Fixture,
} from './testdata/fixture.js';

const form = (fields: Record<string, string>): { headers: Record<string, string>; body: string } => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
  body: new URLSearchParams(fields).toString(),
});

describe('entra token endpoint', () => {
  let f: Fixture;
  let cert: Awaited<ReturnType<typeof makeClientCertificate>>;
  before(async () => {
    f = await makeFixture();
    cert = await makeClientCertificate();
    f.emu.state.addCertificate(f.seed.tenant.id, f.seed.app.clientId, cert.pem);
  });
  const tokenUrl = (): string => `/${f.seed.tenant.domain}/oauth2/v2.0/token`;
  const secretForm = (
    secret: string,
    scope = INTUNE_SCOPE,
    clientId = f.seed.app.clientId,
  ): ReturnType<typeof form> =>
    form({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope });

  it('ok/secret: RS256 JWT with tid, appid, aud, roles, signed by the JWKS key', async () => {
    const r = await f.call('POST', tokenUrl(), secretForm(f.seed.clientSecret));
    assert.equal(r.status, 200);
    assert.equal(r.json['token_type'], 'Bearer');
    assert.equal(r.json['expires_in'], 3599);
    const jwt = decodeJwt(String(r.json['access_token']));
    assert.ok(jwt);
    assert.equal(jwt.header['alg'], 'RS256');
    assert.equal(jwt.claims['tid'], f.seed.tenant.id);
    assert.equal(jwt.claims['appid'], f.seed.app.clientId);
    assert.equal(jwt.claims['aud'], 'https://api.manage.microsoft.com/');
    assert.deepEqual(jwt.claims['roles'], ['scep_challenge_provider']);
    assert.equal(jwt.claims['iat'], T0 / 1000);
    assert.equal(jwt.claims['exp'], T0 / 1000 + 3599);
    const keys = await f.call('GET', `/${f.seed.tenant.id}/discovery/v2.0/keys`);
    const jwk = (keys.json['keys'] as Record<string, string>[])[0];
    assert.equal(jwk?.['kid'], jwt.header['kid']);
    const pub = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    assert.ok(verifyJwtSignature(jwt, pub, 'RS256'));
  });

  it('ok/graph-scope: aud graph, role Application.Read.All; tenant id works like the domain', async () => {
    const r = await f.call(
      'POST',
      `/${f.seed.tenant.id}/oauth2/v2.0/token`,
      secretForm(f.seed.clientSecret, GRAPH_SCOPE),
    );
    assert.equal(r.status, 200);
    const claims = decodeJwt(String(r.json['access_token']))?.claims;
    assert.equal(claims?.['aud'], 'https://graph.microsoft.com');
    assert.deepEqual(claims?.['roles'], ['Application.Read.All']);
  });

  it('ok/graph-scope-at-emulator-origin (client whose Graph URL is the emulator)', async () => {
    const r = await f.call('POST', tokenUrl(), secretForm(f.seed.clientSecret, `${f.emu.baseUrl}/.default`));
    assert.equal(r.status, 200);
    assert.equal(decodeJwt(String(r.json['access_token']))?.claims['aud'], 'https://graph.microsoft.com');
  });

  it('fail/bad-secret: 401 invalid_client AADSTS7000215', async () => {
    const r = await f.call('POST', tokenUrl(), secretForm('wrong'));
    assert.equal(r.status, 401);
    assert.equal(r.json['error'], 'invalid_client');
    assert.match(String(r.json['error_description']), /^AADSTS7000215: Invalid client secret provided\./);
    assert.deepEqual(r.json['error_codes'], [7000215]);
  });

  it('fail/expired-secret: 401 AADSTS7000222', async () => {
    const expired = f.emu.state.addSecret(f.seed.tenant.id, f.seed.app.clientId, -1000);
    const r = await f.call('POST', tokenUrl(), secretForm(expired.value));
    assert.equal(r.status, 401);
    assert.match(
      String(r.json['error_description']),
      /^AADSTS7000222: The provided client secret keys for app/,
    );
  });

  it('fail/unknown-app: 400 unauthorized_client AADSTS700016', async () => {
    const r = await f.call(
      'POST',
      tokenUrl(),
      secretForm(f.seed.clientSecret, INTUNE_SCOPE, '99999999-0000-0000-0000-000000000000'),
    );
    assert.equal(r.status, 400);
    assert.equal(r.json['error'], 'unauthorized_client');
    assert.match(
      String(r.json['error_description']),
      /^AADSTS700016: Application with identifier '99999999-/,
    );
  });

  it('fail/unknown-tenant: 400 AADSTS90002 (token and openid-configuration)', async () => {
    const r = await f.call(
      'POST',
      '/fabrikam.onmicrosoft.com/oauth2/v2.0/token',
      secretForm(f.seed.clientSecret),
    );
    assert.equal(r.status, 400);
    assert.match(
      String(r.json['error_description']),
      /^AADSTS90002: Tenant 'fabrikam.onmicrosoft.com' not found/,
    );
    const o = await f.call('GET', '/fabrikam.onmicrosoft.com/v2.0/.well-known/openid-configuration');
    assert.equal(o.status, 400);
  });

  it('fail/unknown-scope: 400 invalid_resource AADSTS500011', async () => {
    const r = await f.call(
      'POST',
      tokenUrl(),
      secretForm(f.seed.clientSecret, 'https://vault.azure.net/.default'),
    );
    assert.equal(r.status, 400);
    assert.equal(r.json['error'], 'invalid_resource');
    assert.match(String(r.json['error_description']), /^AADSTS500011:/);
  });

  it('ok/no-consent: token issued without roles', async () => {
    const app = f.emu.state.addApp(f.seed.tenant.id, {
      permissions: [{ resource: 'intune', name: 'scep_challenge_provider' }],
      adminConsent: false,
    });
    const secret = f.emu.state.addSecret(f.seed.tenant.id, app.clientId).value;
    const r = await f.call('POST', tokenUrl(), secretForm(secret, INTUNE_SCOPE, app.clientId));
    assert.equal(r.status, 200);
    assert.equal(decodeJwt(String(r.json['access_token']))?.claims['roles'], undefined);
  });

  it('ok/adal-v1: resource= form on /oauth2/token, aud graph', async () => {
    const r = await f.call(
      'POST',
      `/${f.seed.tenant.domain}/oauth2/token`,
      form({
        grant_type: 'client_credentials',
        client_id: f.seed.app.clientId,
        client_secret: f.seed.clientSecret,
        resource: 'https://graph.microsoft.com/',
      }),
    );
    assert.equal(r.status, 200);
    assert.equal(r.json['resource'], 'https://graph.microsoft.com/');
    assert.equal(decodeJwt(String(r.json['access_token']))?.claims['aud'], 'https://graph.microsoft.com');
  });

  it('ok/openid-configuration: what MSAL reads', async () => {
    const r = await f.call('GET', `/${f.seed.tenant.domain}/v2.0/.well-known/openid-configuration`);
    assert.equal(r.status, 200);
    assert.equal(r.json['token_endpoint'], `${f.emu.baseUrl}/${f.seed.tenant.domain}/oauth2/v2.0/token`);
    assert.equal(r.json['issuer'], `${f.emu.baseUrl}/${f.seed.tenant.id}/v2.0`);
    for (const k of ['authorization_endpoint', 'jwks_uri', 'end_session_endpoint'])
      assert.equal(typeof r.json[k], 'string');
    const d = await f.call(
      'GET',
      `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${f.emu.baseUrl}/${f.seed.tenant.domain}/oauth2/v2.0/authorize`)}`,
    );
    assert.equal(
      d.json['tenant_discovery_endpoint'],
      `${f.emu.baseUrl}/${f.seed.tenant.domain}/v2.0/.well-known/openid-configuration`,
    );
  });

  describe('certificate assertion', () => {
    const assertion = (
      alg: JwtAlgorithm,
      thumb: 'x5t' | 'x5t#S256',
      claims: Record<string, unknown> = {},
      key = cert.privateKey,
    ): string => {
      const hash = createHash(thumb === 'x5t' ? 'sha1' : 'sha256')
        .update(cert.der)
        .digest('base64url');
      const now = Math.floor(f.clock.now / 1000);
      return signJwt(
        { [thumb]: hash },
        {
          aud: `${f.emu.baseUrl}/${f.seed.tenant.domain}/oauth2/v2.0/token`,
          iss: f.seed.app.clientId,
          sub: f.seed.app.clientId,
          jti: 'a1',
          nbf: now,
          exp: now + 600,
          ...claims,
        },
        key,
        alg,
      );
    };
    const assertionForm = (jwt: string): ReturnType<typeof form> =>
      form({
        grant_type: 'client_credentials',
        client_id: f.seed.app.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: jwt,
        scope: INTUNE_SCOPE,
      });

    for (const [alg, thumb] of [
      ['RS256', 'x5t'],
      ['PS256', 'x5t#S256'],
    ] as const) {
      it(`ok/${alg}-${thumb}`, async () => {
        const r = await f.call('POST', tokenUrl(), assertionForm(assertion(alg, thumb)));
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.equal(decodeJwt(String(r.json['access_token']))?.claims['appidacr'], '2');
      });
    }

    it('fail/bad-signature: AADSTS700027', async () => {
      const jwt = assertion('PS256', 'x5t#S256');
      const tampered = `${jwt.slice(0, -6)}${jwt.slice(-6) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`;
      const r = await f.call('POST', tokenUrl(), assertionForm(tampered));
      assert.equal(r.status, 401);
      assert.match(
        String(r.json['error_description']),
        /^AADSTS700027: Client assertion failed signature validation\./,
      );
    });

    it('fail/other-key: AADSTS700027', async () => {
      const r = await f.call(
        'POST',
        tokenUrl(),
        assertionForm(assertion('RS256', 'x5t', {}, f.emu.ctx.keys.signingKey)),
      );
      assert.equal(r.status, 401);
      assert.match(
        String(r.json['error_description']),
        /^AADSTS700027: Client assertion failed signature validation\./,
      );
    });

    it('fail/expired: AADSTS700024', async () => {
      const now = Math.floor(f.clock.now / 1000);
      const r = await f.call(
        'POST',
        tokenUrl(),
        assertionForm(assertion('RS256', 'x5t', { exp: now - 3600, nbf: now - 4000 })),
      );
      assert.equal(r.status, 401);
      assert.match(String(r.json['error_description']), /^AADSTS700024:/);
    });

    it('fail/wrong-audience: AADSTS700027', async () => {
      const r = await f.call(
        'POST',
        tokenUrl(),
        assertionForm(
          assertion('RS256', 'x5t', { aud: 'https://login.microsoftonline.com/x/oauth2/v2.0/token' }),
        ),
      );
      assert.equal(r.status, 401);
      assert.match(String(r.json['error_description']), /invalid audience/);
    });
  });
});
