import { StoreError } from './errors.js';

/** A numbered schema migration. Versions are applied in order, each exactly once, recorded in schema_migrations. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Refuse a database migrated by a newer release: this code does not know its schema. */
export function assertKnownVersions(applied: ReadonlySet<number>, migrations: readonly Migration[]): void {
  const known = Math.max(0, ...migrations.map((m) => m.version));
  const newest = Math.max(0, ...applied);
  if (newest > known) {
    throw new StoreError(
      'migration',
      `database schema version ${newest} is newer than this release (${known})`,
    );
  }
}
