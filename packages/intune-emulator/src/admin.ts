import type { IntuneEmulator } from './emulator.js';
import { EmulatorError } from './errors.js';
import { FAULT_OPERATIONS, toFault, type FaultOperation } from './faults.js';
import { json, parseJson, type EmulatorRequest, type EmulatorResponse } from './http.js';
import { isObject } from './jwt.js';
import type { Assignment, GrantedPermission } from './model.js';
import type {
  CreateAppInput,
  CreateDeviceInput,
  CreateProfileInput,
  CreateTenantInput,
  CreateUserInput,
} from './state.js';

type Body = Record<string, unknown>;
type Handler = (emu: IntuneEmulator, p: string[], body: Body) => unknown;

const T = '/admin/tenants/([^/]+)';
const ROUTES: [string, RegExp, Handler][] = [
  ['GET', /^\/admin\/state$/, (e) => e.state.snapshot()],
  ['POST', /^\/admin\/tenants$/, (e, _p, b) => e.state.addTenant(b as unknown as CreateTenantInput)],
  ['POST', re(`${T}/apps`), (e, [t], b) => e.state.addApp(t!, b as CreateAppInput)],
  ['GET', re(`${T}/apps/([^/]+)`), (e, [t, c]) => e.state.app(t!, c!)],
  [
    'POST',
    re(`${T}/apps/([^/]+)/secrets`),
    (e, [t, c], b) =>
      e.state.addSecret(
        t!,
        c!,
        typeof b['lifetimeDays'] === 'number' ? b['lifetimeDays'] * 86400_000 : undefined,
      ),
  ],
  [
    'POST',
    re(`${T}/apps/([^/]+)/certificates`),
    (e, [t, c], b) => e.state.addCertificate(t!, c!, String(b['pem'])),
  ],
  [
    'POST',
    re(`${T}/apps/([^/]+)/permissions`),
    (e, [t, c], b) => e.state.grantPermission(t!, c!, permission(b)),
  ],
  [
    'DELETE',
    re(`${T}/apps/([^/]+)/permissions`),
    (e, [t, c], b) => e.state.revokePermission(t!, c!, permission(b)),
  ],
  [
    'PUT',
    re(`${T}/apps/([^/]+)/consent`),
    (e, [t, c], b) => e.state.setAdminConsent(t!, c!, b['granted'] === true),
  ],
  ['POST', re(`${T}/users`), (e, [t], b) => e.state.addUser(t!, b as unknown as CreateUserInput)],
  ['DELETE', re(`${T}/users/([^/]+)`), (e, [t, u]) => (e.state.deleteUser(t!, u!), { deleted: u })],
  ['POST', re(`${T}/devices`), (e, [t], b) => e.state.addDevice(t!, b as unknown as CreateDeviceInput)],
  ['DELETE', re(`${T}/devices/([^/]+)`), (e, [t, d]) => (e.state.deleteDevice(t!, d!), { deleted: d })],
  [
    'GET',
    re(`${T}/devices/([^/]+)`),
    (e, [t, d]) => ({ ...e.state.device(t!, d!), deployments: e.deploymentStatuses({ deviceId: d! }) }),
  ],
  [
    'POST',
    re(`${T}/devices/([^/]+)/check-in`),
    (e, [t, d], b) => ({ value: e.checkIn(t!, d!, { force: b['force'] === true }) }),
  ],
  ['POST', re(`${T}/devices/([^/]+)/retire`), (e, [t, d]) => e.retire(t!, d!)],
  ['POST', re(`${T}/devices/([^/]+)/wipe`), (e, [t, d]) => e.wipe(t!, d!)],
  ['POST', re(`${T}/profiles`), (e, [t], b) => e.state.addProfile(t!, b as unknown as CreateProfileInput)],
  ['GET', re(`${T}/profiles/([^/]+)`), (e, [t, p]) => e.state.profile(t!, p!)],
  ['PATCH', re(`${T}/profiles/([^/]+)`), (e, [t, p], b) => e.state.updateProfile(t!, p!, b)],
  ['DELETE', re(`${T}/profiles/([^/]+)`), (e, [t, p]) => (e.state.deleteProfile(t!, p!), { deleted: p })],
  ['POST', re(`${T}/profiles/([^/]+)/assignments`), (e, [t, p], b) => e.state.assign(t!, p!, assignment(b))],
  [
    'DELETE',
    re(`${T}/profiles/([^/]+)/assignments/([^/]+)`),
    (e, [t, p, id]) => e.state.unassign(t!, p!, id!),
  ],
  [
    'GET',
    re(`${T}/profiles/([^/]+)/status`),
    (e, [t, p]) => ({ value: (e.state.profile(t!, p!), e.deploymentStatuses({ profileId: p! })) }),
  ],
  [
    'POST',
    re(`${T}/revocations`),
    (e, [t], b) =>
      e.queueRevocation(t!, {
        ...(typeof b['thumbprint'] === 'string' ? { thumbprint: b['thumbprint'] } : {}),
        ...(typeof b['serialNumber'] === 'string' ? { serialNumber: b['serialNumber'] } : {}),
      }),
  ],
  [
    'GET',
    re(`${T}/revocations`),
    (e, [t]) => ({ value: e.state.revocations.filter((r) => r.tenantId === e.state.tenant(t!).id) }),
  ],
  ['GET', /^\/admin\/faults$/, (e) => ({ value: e.faults.list() })],
  [
    'POST',
    /^\/admin\/faults$/,
    (e, _p, b) =>
      e.faults.add(
        b['operation'] as FaultOperation,
        toFault(b['fault']),
        typeof b['count'] === 'number' ? b['count'] : undefined,
      ),
  ],
  [
    'DELETE',
    /^\/admin\/faults$/,
    (e, _p, b) => (
      e.faults.clear({
        ...(typeof b['id'] === 'string' ? { id: b['id'] } : {}),
        ...(FAULT_OPERATIONS.includes(b['operation'] as FaultOperation)
          ? { operation: b['operation'] as FaultOperation }
          : {}),
      }),
      { value: e.faults.list() }
    ),
  ],
  ['GET', /^\/admin\/requests$/, (e) => ({ value: e.requests })],
  ['DELETE', /^\/admin\/requests$/, (e) => (e.requests.splice(0), { value: [] })],
  [
    'GET',
    /^\/admin\/clock$/,
    (e) => ({ now: new Date(e.ctx.now()).toISOString(), offsetMs: e.clockOffsetMs }),
  ],
  [
    'POST',
    /^\/admin\/clock$/,
    (e, _p, b) => {
      const advance = Number(b['advanceSeconds']);
      if (!Number.isFinite(advance))
        throw new EmulatorError('INVALID_ARGUMENT', 'advanceSeconds must be a number');
      e.clockOffsetMs += advance * 1000;
      return { now: new Date(e.ctx.now()).toISOString(), offsetMs: e.clockOffsetMs };
    },
  ],
];

function re(pattern: string): RegExp {
  return new RegExp(`^${pattern}$`);
}

function permission(b: Body): GrantedPermission {
  if (!['graph', 'intune', 'aadGraph'].includes(String(b['resource'])) || typeof b['name'] !== 'string') {
    throw new EmulatorError(
      'INVALID_ARGUMENT',
      "permission needs resource 'graph'|'intune'|'aadGraph' and a name",
    );
  }
  return { resource: b['resource'] as GrantedPermission['resource'], name: b['name'] };
}

function assignment(b: Body): Assignment {
  if ((b['kind'] !== 'user' && b['kind'] !== 'device') || typeof b['id'] !== 'string') {
    throw new EmulatorError('INVALID_ARGUMENT', "assignment needs kind 'user'|'device' and an id");
  }
  return { kind: b['kind'], id: b['id'] };
}

const STATUS: Record<string, number> = {
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_ARGUMENT: 400,
  PROFILE_VARIABLE_UNAVAILABLE: 400,
};

/** The admin API: JSON over HTTP under `/admin/...` (see README). Errors: `{error:{code,message}}`. */
export function adminRoute(emu: IntuneEmulator, req: EmulatorRequest): EmulatorResponse {
  const path = new URL(req.url, 'https://emulator').pathname;
  const body = req.body.trim() === '' ? {} : parseJson(req.body);
  if (!isObject(body))
    return json(400, { error: { code: 'INVALID_ARGUMENT', message: 'body must be a JSON object' } });
  for (const [method, pattern, handler] of ROUTES) {
    const m = pattern.exec(path);
    if (!m || method !== req.method) continue;
    try {
      const result = handler(emu, m.slice(1).map(decodeURIComponent), body);
      return json(req.method === 'POST' ? 201 : 200, result as object);
    } catch (err) {
      if (err instanceof EmulatorError)
        return json(STATUS[err.code] ?? 400, { error: { code: err.code, message: err.message } });
      throw err;
    }
  }
  return json(404, { error: { code: 'NOT_FOUND', message: `no admin route ${req.method} ${path}` } });
}
