/** A numbered schema migration. Versions are applied in order, each exactly once, recorded in schema_migrations. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}
