#!/usr/bin/env node
// The installed command: runs the built CLI (dist/fetch.js; build with turbo first).
import "../dist/fetch.js";
