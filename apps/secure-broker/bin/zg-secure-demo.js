#!/usr/bin/env node
// The demo publisher / subscriber (dist/demo.js; build with turbo first).
import "../dist/demo.js";
