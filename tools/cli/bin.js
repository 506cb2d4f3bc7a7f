#!/usr/bin/env node
// The package bin: runs the TypeScript CLI through the same loader the npm scripts use.
require('@swc-node/register');
require('./main.ts');
