import { summarizeProfile } from '../lib/cpuprofile.js';
const s = await summarizeProfile(process.argv[2]!, [[0, Number.MAX_SAFE_INTEGER]], 40);
console.log(JSON.stringify(s, null, 1));
