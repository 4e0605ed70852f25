/** Builds the `circuitscope` program from the command registry and runs it with the CLI's error contract. */
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../util/package.js';
import { COMMANDS } from './commands/index.js';
import { reportError } from './run.js';

export function buildProgram(): Command {
  const program = new Command('circuitscope')
    .description('Find circuits inside transformer language models with sparse dictionaries.')
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Parses argv and runs the chosen command; resolves to the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    return reportError(err);
  }
}
