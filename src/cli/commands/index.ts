/** The command registry: each entry adds one command (and its options) to the program. */
import type { Command } from 'commander';
import { registerDoctor } from './doctor.js';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [registerDoctor];
