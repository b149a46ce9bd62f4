#!/usr/bin/env node
import { main } from '../dist/src/cli/pdsm.js';

process.exitCode = await main(process.argv.slice(2));
