#!/usr/bin/env node
// The installed command: runs the built app (dist/main.js; build with turbo first).
import "../dist/main.js";
