import type { ResourceName } from './model.js';
import {
  AAD_GRAPH_APP_ID,
  AAD_GRAPH_RESOURCE,
  GRAPH_APP_ID,
  GRAPH_RESOURCE,
  INTUNE_APP_ID,
  INTUNE_RESOURCE,
} from './model.js';

/** The `aud` of tokens for a resource (v1 tokens carry the resource URI). */
export function resourceAudience(resource: ResourceName): string {
  return resource === 'graph'
    ? GRAPH_RESOURCE
    : resource === 'aadGraph'
      ? AAD_GRAPH_RESOURCE
      : INTUNE_RESOURCE;
}

/**
 * Maps a v2 `.default` scope (or a v1 `resource`) to a resource. Accepts Microsoft's exact strings
 * (`https://api.manage.microsoft.com//.default` with its double slash, `https://graph.microsoft.com/.default`),
 * the app ids, and the emulator's own origin for Graph (a client whose Graph URL points at the emulator).
 */
export function resourceForScope(scope: string, baseUrl: string): ResourceName | undefined {
  const resource = scope
    .replace(/\/?\.default$/, '')
    .replace(/\/+$/, '')
    .toLowerCase();
  const graph = [GRAPH_RESOURCE, GRAPH_APP_ID, baseUrl, baseUrl.replace('127.0.0.1', 'localhost')];
  const intune = [INTUNE_RESOURCE, INTUNE_APP_ID, `${baseUrl}/intune`];
  const norm = (s: string): string => s.replace(/\/+$/, '').toLowerCase();
  if (graph.map(norm).includes(resource)) return 'graph';
  if (intune.map(norm).includes(resource)) return 'intune';
  if ([AAD_GRAPH_RESOURCE, AAD_GRAPH_APP_ID].map(norm).includes(resource)) return 'aadGraph';
  return undefined;
}
