import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The operators' CLI (`npm run cli -- ...`) as a process, with `env` over the test's own. */
export async function runCli(env: Record<string, string>, args: string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['-r', '@swc-node/register', 'tools/cli/main.ts', ...args],
      { cwd: ROOT, env: { ...process.env, ...env } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** A CLI command as the documentation shows it, with where it is shown. */
export interface DocumentedCommand {
  /** The file, relative to the repository. */
  file: string;
  /** The command after `npm run cli --` or `saga-cli`, as written. */
  text: string;
  /** Its arguments, quotes removed, `[optional]` parts kept, one alternative of `a|b|c` each. */
  args: string[];
}

/** README.md, docs/ and the tools' READMEs: where the CLI is documented. */
function documentationFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.md'))
    .map((file) => join(ROOT, 'docs', file));
  const tools = readdirSync(join(ROOT, 'tools'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('README.md'))
    .map((file) => join(ROOT, 'tools', file));
  return [join(ROOT, 'README.md'), ...docs, ...tools];
}

/** `npm run cli --`, `npm run -s cli --` and the package bin `saga-cli`, and what follows them. */
const INVOCATION = /(?:npm run (?:-s )?cli --|(?:^|\s)saga-cli)(?=\s|$)(.*)$/;

/**
 * Every CLI command the documentation shows, in code blocks and in `inline code`, each once. A
 * code line ends at a shell comment (`  # ...`) or at the `)` closing `$(...)`; an inline span
 * naming the CLI alone (`saga-cli`) is not a command.
 */
export function documentedCliCommands(): DocumentedCommand[] {
  const found = new Map<string, DocumentedCommand>();
  for (const path of documentationFiles()) {
    const file = relative(ROOT, path);
    const markdown = readFileSync(path, 'utf8');
    const texts: string[] = [];
    const prose = markdown.replace(/```[^\n]*\n([\s\S]*?)```/g, (_block, code: string) => {
      for (const line of code.replace(/\\\n\s*/g, ' ').split('\n')) {
        const text = INVOCATION.exec(line)?.[1];
        if (text !== undefined) texts.push(text.replace(/\s{2,}#.*$/, '').replace(/\).*$/, ''));
      }
      return '';
    });
    for (const [, span] of prose.matchAll(/`([^`]+)`/g)) {
      const text = INVOCATION.exec(span!.replace(/\s+/g, ' '))?.[1];
      if (text !== undefined) texts.push(text);
    }
    for (const text of texts.map((t) => t.trim()).filter(Boolean)) {
      for (const args of expand(shellWords(text))) {
        const key = args.join('\u0000');
        if (!found.has(key)) found.set(key, { file, text, args });
      }
    }
  }
  return [...found.values()];
}

/** Splits as a shell would, for the quoting the docs use ('...' and "..."). */
function shellWords(text: string): string[] {
  return [...text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map(
    ([, single, double, bare]) => single ?? double ?? bare!,
  );
}

/** `[--tenant t1]` kept without its brackets; `retry|cancel` one command per alternative. */
function expand(words: string[]): string[][] {
  let commands: string[][] = [[]];
  for (const word of words.map((w) => w.replace(/[[\]]/g, '')).filter(Boolean)) {
    const alternatives = !word.startsWith('<') && word.includes('|') ? word.split('|') : [word];
    commands = commands.flatMap((command) => alternatives.map((a) => [...command, a]));
  }
  return commands;
}
