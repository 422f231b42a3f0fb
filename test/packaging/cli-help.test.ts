/*
 * The operator guide names every command and option the CLI has: runs `scepkit --help`, then `--help` on each
 * command and subcommand, and checks docs/guide/commands.md mentions `scepkit <command>` and each long option, and
 * that the guide's pages together mention every top-level command.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO, SCEPKIT } from '../support/tools.js';

const GUIDE = join(REPO, 'docs', 'guide');

function help(path: string[]): string {
  return execFileSync(process.execPath, [SCEPKIT, ...path, '--help'], { encoding: 'utf8' });
}

/** The names in a commander help's "Commands:" section (without `help`). */
function subcommands(text: string): string[] {
  const section = text.split(/^Commands:$/m)[1];
  if (!section) return [];
  return [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
}

/** Long options in a help text, without the universal --help. */
function options(text: string): string[] {
  const section = text.split(/^Options:$/m)[1]?.split(/^Commands:$/m)[0] ?? '';
  return [...section.matchAll(/^ {2}(?:-\w, )?(--[a-z0-9-]+)/gm)]
    .map((m) => m[1]!)
    .filter((o) => o !== '--help');
}

interface CommandHelp {
  path: string[];
  options: string[];
}

function walk(path: string[]): CommandHelp[] {
  const text = help(path);
  const subs = subcommands(text);
  return [{ path, options: options(text) }, ...subs.flatMap((s) => walk([...path, s]))];
}

describe('docs/guide matches scepkit --help', () => {
  const commands = walk([]);
  const reference = readFileSync(join(GUIDE, 'commands.md'), 'utf8');
  const guide = readdirSync(GUIDE)
    .filter((f) => f.endsWith('.md'))
    .map((f) => readFileSync(join(GUIDE, f), 'utf8'))
    .join('\n');

  it('ok/cli-has-the-documented-commands', () => {
    const names = commands.map((c) => c.path.join(' '));
    for (const expected of [
      'start',
      'init',
      'serve',
      'enroll',
      'certs list',
      'certs show',
      'certs revoke',
      'crl',
    ]) {
      assert.ok(names.includes(expected), `scepkit ${expected} exists`);
    }
    for (const expected of ['challenge new', 'doctor', 'demo']) assert.ok(names.includes(expected), expected);
  });

  for (const c of commands) {
    const name = ['scepkit', ...c.path].join(' ');
    it(`ok/documented: ${name}`, () => {
      if (c.path.length > 0) {
        // Leaf commands have a heading; a group (certs, requests, challenge) is named by its subcommands.
        assert.ok(reference.includes(`\`${name}`), `docs/guide/commands.md does not mention \`${name}\``);
      }
      for (const o of c.options) {
        assert.ok(reference.includes(o), `docs/guide/commands.md does not mention ${name} ${o}`);
      }
    });
  }

  it('ok/guide-pages-mention-each-top-level-command', () => {
    for (const c of commands.filter((x) => x.path.length === 1)) {
      const n = c.path[0]!;
      const pages = readdirSync(GUIDE).filter(
        (f) => f !== 'commands.md' && readFileSync(join(GUIDE, f), 'utf8').includes(`scepkit ${n}`),
      );
      assert.ok(pages.length > 0 || guide.includes(`scepkit ${n}`), `no guide page uses scepkit ${n}`);
    }
  });
});
