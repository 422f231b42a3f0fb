export { registerAdminConsole } from './console.js';
export { ADMIN_PREFIX, DEFAULT_ADMIN } from './options.js';
export type { AdminAuthority, AdminConsoleOptions, AdminKeyCertificate, AdminStore } from './options.js';
export { DEFAULT_SCRYPT, hashPassword, parsePasswordHash, verifyPassword } from './password.js';
export { localAdminSessions } from './sessions.js';
export type { AdminSessionBackend, AdminSession, LocalAdminSessionOptions } from './sessions.js';
