export { registerAdminConsole } from './console.js';
export { ADMIN_PREFIX, DEFAULT_ADMIN } from './options.js';
export type { AdminAuthority, AdminConsoleOptions, AdminKeyCertificate, AdminStore } from './options.js';
export { DEFAULT_SCRYPT, hashPassword, parsePasswordHash, verifyPassword } from './password.js';
