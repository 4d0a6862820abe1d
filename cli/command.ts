/**
 * The shape of an `anpr` subcommand. Every module in cli/commands/ default-exports one
 * `Command`; cli/main.ts discovers them, so adding a command never touches a shared file.
 * `--help` is handled here for every command and subcommand, from the option descriptions.
 */
import { parseArgs } from 'node:util';
import { AppError, isAppError } from '../shared/errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean;
  description: string;
  /** Placeholder shown in help, e.g. DIR. */
  arg?: string;
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  summary: string;
  /** Positional arguments as shown in usage, e.g. 'NAME' or 'IMAGE…'. */
  args?: string;
  /** Extra help text printed after the options. */
  details?: string;
  options?: Record<string, OptionSpec>;
  /** With `run` too, the command runs itself unless its first argument names one of these. */
  subcommands?: Command[];
  run?(parsed: Parsed): Promise<number | void>;
}

export function helpText(cmd: Command, path: string[]): string {
  const full = ['anpr', ...path].join(' ');
  const lines: string[] = [];
  if (cmd.subcommands?.length && !cmd.run) {
    lines.push(`Usage: ${full} <command> [options]`, '', cmd.summary, '', 'Commands:');
    const w = Math.max(...cmd.subcommands.map((s) => s.name.length));
    for (const s of cmd.subcommands) lines.push(`  ${s.name.padEnd(w)}  ${s.summary}`);
    lines.push('', `Run '${full} <command> --help' for a command's options.`);
    return lines.join('\n');
  }
  lines.push(`Usage: ${full}${cmd.args ? ' ' + cmd.args : ''} [options]`, '', cmd.summary, '', 'Options:');
  const opts = Object.entries(cmd.options ?? {}).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
    const def = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : '';
    return [flag, `${o.description}${def}`] as const;
  });
  opts.push(['-h, --help', 'Show this help']);
  const w = Math.max(...opts.map(([f]) => f.length));
  for (const [f, d] of opts) lines.push(`  ${f.padEnd(w)}  ${d}`);
  if (cmd.details) lines.push('', cmd.details);
  if (cmd.subcommands?.length) {
    // A command that runs itself and also has subcommands (`anpr cloud`, `anpr cloud migrate`).
    const sw = Math.max(...cmd.subcommands.map((s) => s.name.length));
    lines.push('', 'Commands:');
    for (const s of cmd.subcommands) lines.push(`  ${s.name.padEnd(sw)}  ${s.summary}`);
    lines.push('', `Run '${full} <command> --help' for a command's options.`);
  }
  return lines.join('\n');
}

/** Runs `cmd` with `argv`, dispatching to subcommands; returns the exit code. */
export async function runCommand(cmd: Command, argv: string[], path: string[]): Promise<number> {
  const sub = cmd.subcommands?.find((s) => s.name === argv[0]);
  if (sub) return runCommand(sub, argv.slice(1), [...path, sub.name]);
  if (cmd.subcommands?.length && !cmd.run) {
    const [first] = argv;
    if (!first || first === '-h' || first === '--help' || first === 'help') {
      console.log(helpText(cmd, path));
      return first ? 0 : 2;
    }
    console.error(`anpr: unknown command '${[...path, first].join(' ')}'\n\n${helpText(cmd, path)}`);
    return 2;
  }
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, o] of Object.entries(cmd.options ?? {})) {
    options[name] = { type: o.type };
    if (o.short !== undefined) options[name].short = o.short;
    if (o.multiple !== undefined) options[name].multiple = o.multiple;
    if (o.default !== undefined) options[name].default = o.default;
  }
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as Parsed;
  } catch (e) {
    console.error(`anpr ${path.join(' ')}: ${(e as Error).message}\n\n${helpText(cmd, path)}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(helpText(cmd, path));
    return 0;
  }
  try {
    const code = await cmd.run!(parsed);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    if (isAppError(e)) {
      console.error(`anpr ${path.join(' ')}: ${e.code}: ${e.message}`);
      for (const fe of e.errors ?? []) console.error(`  - ${fe.message}`);
      return 1;
    }
    throw e;
  }
}

/** Reads a required positional argument or fails with a usage error. */
export function positional(parsed: Parsed, index: number, name: string): string {
  const v = parsed.positionals[index];
  if (!v) throw new AppError('INVALID_REQUEST', `missing argument ${name}`);
  return v;
}

/** Reads a string option (after defaults). */
export function str(parsed: Parsed, name: string): string | undefined {
  const v = parsed.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Reads an integer option, failing clearly when it is not one. */
export function int(parsed: Parsed, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = str(parsed, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new AppError('INVALID_REQUEST', `--${name} must be an integer between ${min} and ${max}, got '${v}'`);
  }
  return n;
}

/** Reads a positive number option (seconds may be fractional), failing clearly when it is not one. */
export function positive(parsed: Parsed, name: string): number | undefined {
  const v = str(parsed, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new AppError('INVALID_REQUEST', `--${name} must be a positive number, got '${v}'`);
  return n;
}
