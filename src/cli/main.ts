#!/usr/bin/env node
/** Entry point of the `circuitscope` binary. */
import { runCli } from './program.js';

runCli(process.argv).then((code) => {
  process.exitCode = code;
});
