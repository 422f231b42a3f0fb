import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as ServeModule from '../../packages/cli/dist/commands/serve-command.js';
import type * as ConfigModule from '../../packages/cli/dist/config/load-config.js';
import type * as EnrollModule from '../../packages/cli/dist/client/enroll.js';
import { REPO } from './tools.js';

/** The CLI's internals are not package exports: load them from its build (tests run from test/dist/...). */
export const cliModule = (path: string): Promise<unknown> =>
  import(pathToFileURL(join(REPO, 'packages/cli/dist', path)).href);

export const { serve } = (await cliModule('commands/serve-command.js')) as typeof ServeModule;
export const { parseConfig } = (await cliModule('config/load-config.js')) as typeof ConfigModule;
export const { enroll } = (await cliModule('client/enroll.js')) as typeof EnrollModule;
