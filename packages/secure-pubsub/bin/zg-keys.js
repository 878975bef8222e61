#!/usr/bin/env node
// The installed command: runs the built CLI (dist/cli.js).
import { runKeysCli } from "../dist/cli.js";

process.exitCode = runKeysCli(process.argv.slice(2));
