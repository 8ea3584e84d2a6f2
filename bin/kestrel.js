#!/usr/bin/env node
'use strict';
// The CLI is compiled to dist/ by `npm ci` (the prepare script) or `npm run build`.
require('../dist/src/cli/main.js').runCli();
