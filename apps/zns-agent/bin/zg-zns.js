#!/usr/bin/env node
// The installed command: runs the built CLI (dist/cli.js; build with turbo first).
import "../dist/cli.js";
