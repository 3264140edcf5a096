#!/usr/bin/env node
// The `parley` command (package.json "bin"): runs the TypeScript CLI through tsx, as `npm start` runs the gateway.
import { register } from 'tsx/esm/api';

register();
await import('./parley.ts');
