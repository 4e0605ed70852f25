/** The command registry: each entry adds one command (and its options) to the program. */
import type { Command } from 'commander';
import { registerCache } from './cache.js';
import { registerDoctor } from './doctor.js';
import { registerRun } from './run.js';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [registerDoctor, registerRun, registerCache];
